// The console's only script: live rows on the executions page (server-sent events, or polling when the source
// cannot push), and the state panel on an execution's page. Plain JavaScript, no build step; every value goes into
// the page through textContent, never as markup. The pages work without it.
(function () {
  'use strict';

  var BASE = '/_console';

  function pad(n) { return String(n).padStart(2, '0'); }

  // The same text as the server's html::fmt_time.
  function fmtTime(d) {
    return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) + ' ' +
      pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ':' + pad(d.getUTCSeconds()) + ' UTC';
  }

  // The same text as the server's html::fmt_duration.
  function fmtDuration(ms) {
    ms = Math.max(0, Math.floor(ms));
    if (ms < 1000) return ms + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
    if (ms < 3600000) return Math.floor(ms / 60000) + ' min ' + pad(Math.floor(ms / 1000) % 60) + ' s';
    if (ms < 86400000) return Math.floor(ms / 3600000) + ' h ' + pad(Math.floor(ms / 60000) % 60) + ' min';
    return Math.floor(ms / 86400000) + ' d ' + (Math.floor(ms / 3600000) % 24) + ' h';
  }

  function statusClass(s) { return 'status-' + String(s).toLowerCase().replace(/_/g, '-'); }

  function shorten(s, max) {
    var chars = Array.from(s);
    return chars.length > max ? chars.slice(0, max).join('') + '…' : s;
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  // ---- Executions page -------------------------------------------------------------------------------------

  function badge(status) { return el('span', { 'class': 'badge ' + statusClass(status) }, status); }

  // The cells of executions::row, built from an ExecutionSummary's JSON.
  function buildRow(s) {
    var tr = el('tr');
    tr.dataset.arn = s.arn;
    tr.dataset.status = s.status;
    var name = el('td', { 'class': 'name' });
    name.appendChild(el('a', { 'class': 'execution-link', href: BASE + '/executions/' + encodeURIComponent(s.arn) }, s.name));
    tr.appendChild(name);
    tr.appendChild(el('td', { 'class': 'machine' }, s.machine_name));
    var status = el('td', { 'class': 'status' });
    status.appendChild(badge(s.status));
    tr.appendChild(status);
    var started = el('td', { 'class': 'started' });
    var start = new Date(s.start_date);
    started.appendChild(el('time', { datetime: s.start_date }, fmtTime(start)));
    tr.appendChild(started);
    var stop = s.stop_date ? new Date(s.stop_date) : null;
    tr.appendChild(el('td', { 'class': 'duration' },
      stop ? fmtDuration(stop - start) : 'running ' + fmtDuration(Date.now() - start)));
    var error = el('td', { 'class': 'error' });
    if (s.error || s.cause) {
      error.appendChild(el('span', { 'class': 'error-name' }, s.error || ''));
      error.appendChild(document.createTextNode(' '));
      var cause = readableCause(s.cause || '');
      error.appendChild(el('span', { 'class': 'cause', title: cause }, shorten(cause, 120)));
    }
    tr.appendChild(error);
    return tr;
  }

  // As html::readable_cause: a Lambda error's JSON cause reads "errorType: errorMessage".
  function readableCause(cause) {
    try {
      var e = JSON.parse(cause);
      if (e && typeof e.errorMessage === 'string') {
        return e.errorType ? e.errorType + ': ' + e.errorMessage : e.errorMessage;
      }
    } catch (_) { /* not JSON: as it is */ }
    return cause;
  }

  function matches(table, s) {
    var d = table.dataset;
    if (d.machine && s.machine_arn !== d.machine) return false;
    if (d.status && s.status !== d.status) return false;
    if (d.q && s.name.toLowerCase().indexOf(d.q.toLowerCase()) < 0) return false;
    return true;
  }

  function findRow(tbody, arn) {
    for (var i = 0; i < tbody.rows.length; i++) if (tbody.rows[i].dataset.arn === arn) return tbody.rows[i];
    return null;
  }

  function apply(table, s) {
    var tbody = table.tBodies[0];
    var existing = findRow(tbody, s.arn);
    if (!matches(table, s)) {
      if (existing) existing.remove();
      return;
    }
    var tr = buildRow(s);
    tr.classList.add('flash-row');
    if (existing) {
      existing.replaceWith(tr);
    } else {
      tbody.insertBefore(tr, tbody.firstChild);
      var size = parseInt(table.dataset.pageSize, 10) || 50;
      while (tbody.rows.length > size) tbody.deleteRow(tbody.rows.length - 1);
    }
    var none = document.getElementById('no-executions');
    if (none) none.hidden = true;
  }

  // Reloads the rows (and the machines' counts) from the page itself.
  function refresh(table) {
    fetch(window.location.href, { headers: { Accept: 'text/html' }, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, 'text/html');
        [['#executions', table], ['#machines', document.getElementById('machines')]].forEach(function (pair) {
          var fresh = doc.querySelector(pair[0] + ' tbody');
          if (fresh && pair[1] && pair[1].tBodies[0]) pair[1].tBodies[0].replaceWith(document.adoptNode(fresh));
        });
      })
      .catch(function () { /* the next poll tries again */ });
  }

  function tickDurations(table) {
    var rows = table.tBodies[0].rows;
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].dataset.status !== 'RUNNING') continue;
      var t = rows[i].querySelector('td.started time');
      var cell = rows[i].querySelector('td.duration');
      if (t && cell) cell.textContent = 'running ' + fmtDuration(Date.now() - new Date(t.getAttribute('datetime')));
    }
  }

  function executionsPage() {
    var table = document.getElementById('executions');
    if (!table) return;
    var live = document.getElementById('live');
    var mode = table.dataset.live;
    setInterval(function () { tickDurations(table); }, 1000);
    if (mode === 'sse' && window.EventSource) {
      var source = new EventSource(BASE + '/events');
      live.hidden = false;
      live.textContent = 'connecting…';
      source.onopen = function () { live.textContent = 'live'; live.className = 'live live-on'; };
      source.onerror = function () { live.textContent = 'reconnecting…'; live.className = 'live live-off'; };
      source.addEventListener('execution', function (e) {
        try { apply(table, JSON.parse(e.data).summary); } catch (err) { /* a malformed event changes nothing */ }
      });
      source.addEventListener('lagged', function () { refresh(table); });
    } else if (mode === 'poll' || mode === 'sse') {
      live.hidden = false;
      live.textContent = 'polling every 5 s';
      live.className = 'live live-poll';
      setInterval(function () { refresh(table); }, 5000);
    }
  }

  // ---- Execution page: the state panel ---------------------------------------------------------------------

  function pretty(v) {
    if (v === undefined || v === null || v === '') return '—';
    if (typeof v === 'string') {
      try { return JSON.stringify(JSON.parse(v), null, 2); } catch (e) { return v; }
    }
    return JSON.stringify(v, null, 2);
  }

  function text(v) {
    if (v === undefined || v === null || v === '') return '—';
    return typeof v === 'string' ? v : JSON.stringify(v);
  }

  // graph::Outcome::label, by its serialized name.
  var OUTCOMES = {
    'not-reached': 'not reached', 'succeeded': 'succeeded', 'retried': 'succeeded after retries',
    'caught': 'failed, error caught', 'running': 'running', 'failed': 'failed'
  };

  function epoch(v) { return typeof v === 'number' ? fmtTime(new Date(v * 1000)) : text(v); }

  function executionPage() {
    var data = document.getElementById('runs-data');
    var panel = document.getElementById('state-panel');
    if (!data || !panel) return;
    var runs = {};
    try { runs = JSON.parse(data.textContent) || {}; } catch (e) { runs = {}; }
    var states = document.querySelectorAll('#graph [data-state]');
    var selected = null;

    function show(node) {
      var name = node.getAttribute('data-state');
      var run = Object.prototype.hasOwnProperty.call(runs, name) ? runs[name] : null;
      if (selected) selected.classList.remove('selected');
      selected = node;
      node.classList.add('selected');
      panel.hidden = false;
      panel.dataset.state = name;
      document.getElementById('state-panel-name').textContent = name;
      var outcome = OUTCOMES[run ? run.outcome : 'not-reached'] || text(run && run.outcome);
      if (run && run.entered !== undefined && run.entered !== null) outcome += ' · entered ' + text(run.entered) + '×';
      document.getElementById('state-outcome').textContent = outcome;
      document.getElementById('state-input').textContent = pretty(run && run.input);
      document.getElementById('state-output').textContent = pretty(run && run.output);
      document.getElementById('state-error').textContent = text(run && run.error);
      document.getElementById('state-cause').textContent = pretty(run && run.cause);
      var tbody = document.querySelector('#state-attempts tbody');
      while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
      var attempts = (run && run.attempts) || [];
      attempts.forEach(function (a, i) {
        var tr = el('tr');
        tr.appendChild(el('td', null, String(i + 1)));
        tr.appendChild(el('td', null, epoch(a.at)));
        tr.appendChild(el('td', { 'class': 'error-name' }, text(a.error)));
        var cause = el('td');
        cause.appendChild(el('pre', { 'class': 'cause' }, pretty(a.cause)));
        tr.appendChild(cause);
        tbody.appendChild(tr);
      });
      if (!attempts.length) {
        var tr = el('tr');
        tr.appendChild(el('td', { colspan: '4', 'class': 'muted' }, 'No retries.'));
        tbody.appendChild(tr);
      }
    }

    Array.prototype.forEach.call(states, function (node) {
      node.setAttribute('tabindex', '0');
      node.setAttribute('role', 'button');
      node.setAttribute('aria-label', 'State ' + node.getAttribute('data-state'));
      // States nest (a Parallel's branches): the innermost one clicked is the one shown.
      node.addEventListener('click', function (e) { e.stopPropagation(); show(node); });
      node.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); e.stopPropagation(); show(node); }
      });
    });
    document.getElementById('state-panel-close').addEventListener('click', function () {
      panel.hidden = true;
      if (selected) { selected.classList.remove('selected'); selected.focus(); selected = null; }
    });
  }

  function start() {
    executionsPage();
    executionPage();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
