// The generator's pages' only script, served from /static/app.js (the Content-Security-Policy allows no inline script).
'use strict';
(function () {
  var RECENT_KEY = 'token-generator.recent-audiences';
  var RECENT_MAX = 8;

  function copyButtons() {
    document.querySelectorAll('button[data-copy]').forEach(function (button) {
      button.hidden = false;
      button.addEventListener('click', function () {
        var id = button.getAttribute('data-copy');
        var source = document.getElementById(id);
        var status = document.querySelector('[data-copy-status-for="' + id + '"]');
        var text = source ? (source.value !== undefined && source.tagName === 'TEXTAREA' ? source.value : source.textContent) : '';
        var say = function (message) {
          if (status) status.textContent = message;
        };
        if (!navigator.clipboard || !navigator.clipboard.writeText) return say('Copying is not available here: select the text instead.');
        navigator.clipboard.writeText(text).then(
          function () {
            say('Copied.');
          },
          function () {
            say('Copy failed: select the text instead.');
          },
        );
      });
    });
  }

  function inWords(seconds) {
    if (seconds < 90) return seconds + (seconds === 1 ? ' second' : ' seconds');
    var minutes = Math.round(seconds / 60);
    if (minutes < 120) return minutes + ' minutes';
    var hours = Math.floor(minutes / 60);
    var rest = minutes % 60;
    return hours + ' hours' + (rest ? ' ' + rest + ' minutes' : '');
  }

  function clock(date) {
    return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  /**
   * <time datetime> as the reader's local clock and relative to now; an expiry counts down and is marked under five minutes.
   * The offer of a new token (data-renew) is shown once the expiry has passed, and hidden until then.
   */
  var EXPIRED = 'This token has expired.';

  function times() {
    var elements = document.querySelectorAll('time[data-local]');
    if (!elements.length) return;
    var renew = document.querySelector('[data-renew]');
    var render = function () {
      var expired = false;
      elements.forEach(function (element) {
        var at = new Date(element.getAttribute('datetime'));
        if (isNaN(at.getTime())) return;
        var seconds = Math.round((at.getTime() - Date.now()) / 1000);
        var expiry = element.hasAttribute('data-expiry');
        var relative = seconds >= 0 ? 'in ' + inWords(seconds) : inWords(-seconds) + ' ago';
        var day = at.toDateString() === new Date().toDateString() ? '' : at.toLocaleDateString() + ' ';
        element.textContent =
          expiry && seconds <= 0 ? 'expired at ' + day + clock(at) + ', ' + relative : day + clock(at) + ', ' + relative;
        if (expiry) element.classList.toggle('soon', seconds < 300);
        if (expiry && seconds <= 0) expired = true;
      });
      // Changed only when it changes: the live region around it reads out what appears in it, once.
      if (renew && renew.hidden === expired) renew.hidden = !expired;
      // Also on a page whose token had expired before it was shown (a restored tab), where the offer is not hidden first.
      var why = renew && expired && renew.querySelector('[data-renew-why]');
      if (why && why.textContent !== EXPIRED) why.textContent = EXPIRED;
    };
    render();
    setInterval(render, 1000);
  }

  function recentAudiences() {
    try {
      var list = JSON.parse(localStorage.getItem(RECENT_KEY) || '[]');
      return Array.isArray(list)
        ? list.filter(function (item) {
            return typeof item === 'string';
          })
        : [];
    } catch {
      return [];
    }
  }

  function remember(audience) {
    if (!audience) return;
    var list = recentAudiences().filter(function (item) {
      return item !== audience;
    });
    list.unshift(audience);
    try {
      localStorage.setItem(RECENT_KEY, JSON.stringify(list.slice(0, RECENT_MAX)));
    } catch {
      /* private mode: nothing kept */
    }
  }

  function link(text, href) {
    var a = document.createElement('a');
    a.href = href;
    a.textContent = text;
    return a;
  }

  function showRecent(input, check) {
    var list = document.getElementById('recent');
    var empty = document.getElementById('recent-empty');
    var forget = document.getElementById('recent-forget');
    if (!list) return;
    var audiences = recentAudiences();
    list.textContent = '';
    audiences.forEach(function (audience) {
      var item = document.createElement('li');
      var use = document.createElement('button');
      use.type = 'button';
      use.className = 'secondary';
      use.textContent = audience;
      use.setAttribute('aria-label', 'Use ' + audience);
      use.addEventListener('click', function () {
        input.value = audience;
        input.focus();
        check();
      });
      var query = '?aud=' + encodeURIComponent(audience);
      item.append(use, link('token on your behalf', '/api/obo' + query), link('app token', '/api/m2m' + query));
      list.appendChild(item);
    });
    if (empty) empty.hidden = audiences.length > 0;
    if (forget) forget.hidden = audiences.length === 0;
  }

  /** The home page's audience field: the server's own parser says, as one types, whether it is valid. */
  function audienceForm() {
    var form = document.getElementById('token-form');
    var input = document.getElementById('aud');
    var verdict = document.getElementById('aud-verdict');
    if (!form || !input || !verdict) return;
    var buttons = form.querySelectorAll('button[type="submit"]');
    var pending;
    var asked = 0;
    var setButtons = function (enabled) {
      buttons.forEach(function (b) {
        b.disabled = !enabled;
      });
    };
    var check = function () {
      clearTimeout(pending);
      var value = input.value.trim();
      if (!value) {
        verdict.textContent = '';
        verdict.className = 'verdict';
        input.removeAttribute('aria-invalid');
        setButtons(false);
        return;
      }
      // Until the answer comes, the buttons work: Enter right after pasting submits (a form whose buttons are all disabled
      // ignores Enter), and the generator says on its own page what is wrong with an audience the answer would have refused.
      setButtons(true);
      pending = setTimeout(function () {
        var mine = ++asked;
        fetch('/api/public/audience?aud=' + encodeURIComponent(value), { headers: { accept: 'application/json' } })
          .then(function (res) {
            return res.json();
          })
          .then(function (answer) {
            if (mine !== asked) return;
            if (answer.valid) {
              verdict.textContent = 'Valid: ' + answer.target + ' (scope ' + answer.scope + ')';
              verdict.className = 'verdict valid';
              input.setAttribute('aria-invalid', 'false');
            } else {
              verdict.textContent = answer.message;
              verdict.className = 'verdict invalid';
              input.setAttribute('aria-invalid', 'true');
            }
            setButtons(answer.valid === true);
          })
          .catch(function () {
            if (mine === asked) setButtons(true);
          });
      }, 120);
    };
    input.addEventListener('input', check);
    // A navigation rather than a form submission: without a session the answer redirects to the identity
    // provider's login, another origin, which the pages' form-action 'self' would stop.
    form.addEventListener('submit', function (event) {
      var value = input.value.trim();
      remember(value);
      var submitter = event.submitter;
      var destination = new URL((submitter && submitter.getAttribute('formaction')) || form.getAttribute('action'), window.location.href);
      destination.searchParams.set('aud', value);
      event.preventDefault();
      window.location.assign(destination.toString());
    });
    var forget = document.getElementById('recent-forget');
    if (forget) {
      forget.addEventListener('click', function () {
        try {
          localStorage.removeItem(RECENT_KEY);
        } catch {
          /* nothing kept */
        }
        showRecent(input, check);
      });
    }
    showRecent(input, check);
    check();
  }

  /**
   * Buttons marked data-arm work only once the page has been visible (and focused, after a switch
   * away) for that many milliseconds: a click meant for another window cannot land on them.
   */
  function armButtons() {
    var buttons = document.querySelectorAll('button[data-arm]');
    if (!buttons.length) return;
    var timer;
    var set = function (disabled) {
      buttons.forEach(function (button) {
        button.disabled = disabled;
      });
    };
    var arm = function () {
      clearTimeout(timer);
      set(true);
      if (document.visibilityState !== 'visible') return;
      timer = setTimeout(
        function () {
          set(false);
        },
        Number(buttons[0].getAttribute('data-arm')) || 1000,
      );
    };
    document.addEventListener('visibilitychange', arm);
    window.addEventListener('focus', arm);
    window.addEventListener('blur', function () {
      clearTimeout(timer);
      set(true);
    });
    arm();
  }

  copyButtons();
  armButtons();
  times();
  audienceForm();
  var page = document.querySelector('[data-audience]');
  if (page) remember(page.getAttribute('data-audience'));
})();
