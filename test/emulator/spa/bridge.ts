/** msal-browser 5's redirect bridge page: it hands the emulator's answer to the page (or popup opener) that asked. */
import { broadcastResponseToMainFrame } from 'msal-browser-5/redirect-bridge';

void broadcastResponseToMainFrame();
