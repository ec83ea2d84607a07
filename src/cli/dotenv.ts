/** Sets one variable in a .env file, keeping every other line as it was. */
import { readFile, writeFile } from 'node:fs/promises';

export function setVariable(content: string, name: string, value: string): string {
  const pattern = new RegExp(`^(\\s*(?:export\\s+)?)${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*=.*$`);
  const lines = content === '' ? [] : content.split('\n');
  const trailingNewline = content.endsWith('\n');
  if (trailingNewline) lines.pop();
  let found = false;
  const updated = lines.map((line) => {
    const match = pattern.exec(line);
    if (!match) return line;
    found = true;
    return `${match[1]}${name}=${value}`;
  });
  if (!found) updated.push(`${name}=${value}`);
  return `${updated.join('\n')}\n`;
}

export async function updateEnvFile(path: string, name: string, value: string): Promise<void> {
  let content = '';
  try {
    content = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await writeFile(path, setVariable(content, name, value), { mode: 0o600 });
}
