// failover console. Plain script, no dependencies. Every figure comes from
// the v1 API with the operator's bearer token; the token lives in this
// tab's sessionStorage only and is never put in a URL the server sees.
// Markup is built with DOM calls (textContent), never from strings, so a
// name or message from the API cannot become markup.
'use strict';

(function () {
  const TOKEN_KEY = 'failover.token';
  const MAX_EVENTS = 200;
  const REFRESH_MS = 5000;

  const S = {
    token: null, who: null, operate: false,
    since: 0, gen: 0, data: null, lastJSON: '', renderedAt: 0, refreshTimer: null, streamAbort: null,
  };

  const $ = (id) => document.getElementById(id);

  // el builds an element: attrs (class, data-*, aria-*, on* handlers,
  // properties) and children (strings become text nodes).
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of kids.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  // table labels every cell with its column (data-label), so a phone
  // can show each row as a card: "Serving: cloud".
  function table(caption, heads, rows) {
    for (const tr of rows) {
      Array.from(tr.children).forEach((cell, i) => { if (heads[i]) cell.setAttribute('data-label', heads[i]); });
    }
    return el('table', {},
      el('caption', { class: 'sr' }, caption),
      el('thead', {}, el('tr', {}, heads.map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows));
  }

  function badge(text, kind) { return el('span', { class: 'badge ' + (kind || text) }, text); }

  function fmtTime(t) {
    if (!t || t.startsWith('0001-')) return '—';
    const d = new Date(t);
    return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }
  function ago(t) {
    if (!t || t.startsWith('0001-')) return '';
    let s = Math.max(0, Math.round((Date.now() - new Date(t).getTime()) / 1000));
    if (s < 90) return s + ' s ago';
    s = Math.round(s / 60);
    if (s < 90) return s + ' min ago';
    s = Math.round(s / 60);
    if (s < 48) return s + ' h ago';
    return Math.round(s / 24) + ' d ago';
  }
  function timeEl(t) {
    return el('time', { datetime: t, title: fmtTime(t) }, fmtTime(t), ' ', el('span', { class: 'ago' }, ago(t) ? '(' + ago(t) + ')' : ''));
  }

  // --- token -----------------------------------------------------------

  // A runbook link /ui/#token=… hands over a token: read it, keep it for
  // this tab, and take it out of the address bar and history at once.
  function takeFragmentToken() {
    const h = location.hash.slice(1);
    if (!h) return;
    const p = new URLSearchParams(h);
    const t = p.get('token');
    if (t) sessionStorage.setItem(TOKEN_KEY, t.trim());
    p.delete('token');
    const rest = p.toString();
    history.replaceState(null, '', location.pathname + location.search + (rest ? '#' + rest : ''));
  }

  function showLogin(msg) {
    S.gen++;
    if (S.streamAbort) S.streamAbort.abort();
    clearInterval(S.refreshTimer);
    S.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    $('console').hidden = true;
    $('events-panel').hidden = true;
    $('signout').hidden = true;
    $('who').textContent = '';
    $('login').hidden = false;
    $('login-error').textContent = msg || '';
    $('token-input').focus();
  }

  // --- API -------------------------------------------------------------

  class APIError extends Error {
    constructor(status, problem) {
      super(problem && (problem.detail || problem.title) || ('HTTP ' + status));
      this.status = status;
      this.problem = problem;
    }
  }

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  async function api(method, path, body) {
    const headers = { Authorization: 'Bearer ' + S.token, Accept: 'application/json' };
    const init = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    // A retried click must never apply twice.
    if (method !== 'GET') headers['Idempotency-Key'] = newKey();
    const r = await fetch(path, init);
    const text = await r.text();
    let v = null;
    try { v = text ? JSON.parse(text) : null; } catch (e) { v = null; }
    if (r.status === 401) {
      showLogin('The token was refused (401): paste a valid one.');
      throw new APIError(401, v);
    }
    if (!r.ok) throw new APIError(r.status, v);
    return v;
  }

  async function optional(path) {
    try { return await api('GET', path); } catch (e) {
      if (e.status === 404) return null;
      throw e;
    }
  }

  // --- data ------------------------------------------------------------

  async function load() {
    const [status, checks, policies, rsets, toggles, cluster, drills] = await Promise.all([
      api('GET', '/v1/status'),
      api('GET', '/v1/health-checks'),
      api('GET', '/v1/traffic-policies'),
      api('GET', '/v1/replica-sets'),
      api('GET', '/v1/burst-toggles'),
      api('GET', '/v1/cluster'),
      optional('/v1/drills'),
    ]);
    const rstatus = {};
    await Promise.all(rsets.items.map(async (r) => {
      rstatus[r.name] = await optional('/v1/replica-sets/' + encodeURIComponent(r.name) + '/status');
    }));
    return { status, checks: checks.items, policies: policies.items, rsets: rsets.items, rstatus,
      toggles: toggles.items, cluster, drills: drills ? drills.items : [] };
  }

  async function refresh() {
    try {
      const data = await load();
      // Re-render only what changed (or to age the "ago" times): a
      // re-render replaces the buttons under the operator's pointer.
      const json = JSON.stringify(data);
      const now = Date.now();
      if (json !== S.lastJSON || now - S.renderedAt > 30000) {
        S.data = data;
        S.lastJSON = json;
        S.renderedAt = now;
        render();
      }
      $('banner').textContent = '';
    } catch (e) {
      if (e.status !== 401) $('banner').textContent = 'Could not refresh: ' + e.message;
    }
  }

  let pending = null;
  function refreshSoon() {
    if (pending) return;
    pending = setTimeout(() => { pending = null; refresh(); }, 150);
  }

  // --- render ----------------------------------------------------------

  // replace swaps a container's content and puts keyboard focus back on
  // the control that had it (same data-key), so a live refresh never
  // throws a keyboard user back to the top.
  function replace(container, ...nodes) {
    const a = document.activeElement;
    const key = a && container.contains(a) ? a.getAttribute('data-key') : null;
    container.replaceChildren(...nodes);
    if (key) {
      const again = container.querySelector('[data-key="' + CSS.escape(key) + '"]');
      if (again) again.focus();
    }
  }

  function render() {
    const d = S.data;
    renderPolicies(d);
    renderDrills(d);
    renderSites(d);
    renderReplicaSets(d);
    renderToggles(d);
    renderCluster(d);
  }

  function decisionOf(d, name) {
    return d.status.decisions.find((x) => x.policy === name) || null;
  }

  function servingText(dec) {
    if (!dec || !dec.serving || dec.serving.length === 0) return 'nothing';
    return dec.serving.map((s) => s.target + (dec.serving.length > 1 ? ' (' + s.weight + ')' : '')).join(', ');
  }

  function renderPolicies(d) {
    if (d.policies.length === 0) return replace($('policies'), el('p', {}, 'No traffic policies.'));
    const rows = d.policies.map((p) => {
      const dec = decisionOf(d, p.name);
      const wc = p.worst_case_failover_seconds;
      const rto = p.rto_seconds;
      const budget = rto ? [wc + ' s / RTO ' + rto + ' s ', wc <= rto ? badge('within RTO', 'ok') : badge('over RTO', 'bad')]
        : [wc + ' s ', el('span', { class: 'muted' }, '(no RTO declared)')];
      const ov = dec && dec.override;
      const actions = S.operate ? el('td', { class: 'actions' },
        el('button', { type: 'button', 'data-key': 'ov:' + p.name, 'aria-label': 'Override ' + p.name, onclick: () => overrideDialog(p) }, 'Override…'),
        ov ? el('button', { type: 'button', 'data-key': 'clr:' + p.name, 'aria-label': 'Clear override of ' + p.name, onclick: () => clearDialog(p) }, 'Clear override') : null,
        el('button', { type: 'button', 'data-key': 'drill:' + p.name, 'aria-label': 'Run a drill on ' + p.name, onclick: () => drillDialog(p) }, 'Drill…')) : null;
      return el('tr', { 'data-policy': p.name },
        el('th', { scope: 'row' }, p.name, el('div', { class: 'muted' }, p.mode + (p.fqdn ? ' · ' + p.fqdn : ''))),
        el('td', { class: 'serving' }, servingText(dec)),
        el('td', {}, dec ? timeEl(dec.since) : '—'),
        el('td', { class: 'reason' }, dec ? dec.reason : '—',
          ov ? el('div', { class: 'override' }, 'override → ' + ov.target + ' until ' + fmtTime(ov.expires_at) + (ov.reason ? ' — ' + ov.reason : '') + (ov.set_by ? ' (by ' + ov.set_by + ')' : '')) : null),
        el('td', {}, budget),
        actions);
    });
    const heads = ['Policy', 'Serving', 'Since', 'Reason', 'Worst case vs RTO'];
    if (S.operate) heads.push('Actions');
    replace($('policies'), table('Traffic policies: what serves, since when and why', heads, rows));
  }

  function renderDrills(d) {
    if (d.drills.length === 0) return replace($('drills'), el('p', {}, 'No drills yet.' + (S.operate ? ' Start one with a policy\'s "Drill…" button.' : '')));
    const rows = d.drills.slice(0, 20).map((x) => {
      const r = x.report || {};
      const sec = (v) => (v === undefined || v === null) ? '—' : v.toFixed(3) + ' s';
      const verdict = x.state === 'running' ? badge('running · ' + (x.step || ''), 'warn')
        : x.state === 'aborted' ? badge('aborted', 'warn') : r.pass ? badge('pass', 'ok') : badge('fail', 'bad');
      return el('tr', { 'data-drill': x.id },
        el('th', { scope: 'row' }, x.id),
        el('td', {}, x.policy + ' → ' + x.target),
        el('td', {}, timeEl(x.started_at)),
        el('td', {}, verdict),
        el('td', {}, sec(r.switch_seconds), r.rto_seconds ? ' / RTO ' + r.rto_seconds + ' s' : ''),
        el('td', {}, sec(r.failback_switch_seconds)),
        el('td', {}, (r.publishers || []).map((p) => p.destination + ' ' + p.record + ': ' + (p.followed ? 'followed' : 'did not follow')).join('; ') || '—'),
        el('td', {}, (r.notes || []).join('; ') || '—'),
        S.operate ? el('td', {}, x.state === 'running' ? el('button', { type: 'button', 'data-key': 'abort:' + x.id, onclick: () => abortDialog(x) }, 'Abort') : '') : null);
    });
    const heads = ['Drill', 'Policy', 'Started', 'Result', 'Switch', 'Failback', 'Publishers', 'Notes'];
    if (S.operate) heads.push('Actions');
    replace($('drills'), table('Drills, newest first', heads, rows));
  }

  function renderSites(d) {
    const status = {};
    for (const c of d.status.checks) status[c.check] = c;
    const bySite = {};
    for (const c of d.checks) (bySite[c.site] = bySite[c.site] || []).push(c);
    const sites = Object.keys(bySite).sort();
    if (sites.length === 0) return replace($('sites'), el('p', {}, 'No health checks.'));
    replace($('sites'), ...sites.map((site) => el('article', { class: 'site', 'data-site': site },
      el('h3', {}, 'Site ' + site),
      el('div', { class: 'scroll' }, table('Checks of site ' + site + ' and the vote of each probing site',
        ['Check', 'State', 'Votes (probing site: state, last checked, error)'],
        bySite[site].map((c) => {
          const st = status[c.name] || { state: 'unknown', sites: {} };
          const votes = Object.keys(st.sites || {}).sort().map((ps) => {
            const o = st.sites[ps];
            return el('li', {}, el('strong', {}, ps + ': '), badge(o.state), ' ', fmtTime(o.last_checked),
              o.last_error ? el('span', { class: 'err' }, ' ' + o.last_error) : null);
          });
          return el('tr', { 'data-check': c.name },
            el('th', { scope: 'row' }, c.name, el('div', { class: 'muted' }, c.type + ' ' + c.address + (c.quorum ? ' · quorum ' + c.quorum : ''))),
            el('td', {}, badge(st.state), ' ', st.since ? el('span', { class: 'muted' }, ago(st.since)) : ''),
            el('td', {}, votes.length ? el('ul', { class: 'votes' }, votes) : el('span', { class: 'muted' }, 'no observation yet')));
        }))))));
  }

  function renderReplicaSets(d) {
    if (d.rsets.length === 0) return replace($('replicasets'), el('p', {}, 'No replica sets.'));
    replace($('replicasets'), ...d.rsets.map((r) => {
      const a = r.analysis || {};
      const st = d.rstatus[r.name];
      const loss = a.site_loss || {};
      return el('article', { class: 'rs', 'data-replica-set': r.name },
        el('h3', {}, r.name, ' ', st ? (st.at_risk ? badge('at risk', 'bad') : badge('safe', 'ok')) : null),
        el('p', {}, (a.voting_members || 0) + ' voting members, majority ' + (a.majority || 0) + ', tolerates ' + (a.fault_tolerance || 0) +
          ' member loss; preferred primary site ' + (a.preferred_primary_site || '—') + '.' +
          (st ? ' Live: ' + st.members_up + ' up, ' + st.votes_up + ' votes up, ' + (st.has_majority ? 'majority held' : 'NO majority') +
            (st.expected_primary ? ', expected primary ' + st.expected_primary : '') + '.' : '')),
        el('div', { class: 'scroll' }, table('If one site of ' + r.name + ' is lost',
          ['Site lost', 'Survives', 'New primary', 'Votes left'],
          Object.keys(loss).sort().map((s) => el('tr', {},
            el('th', { scope: 'row' }, s),
            el('td', {}, loss[s].survives ? badge('yes', 'ok') : badge('no', 'bad')),
            el('td', {}, loss[s].new_primary || '—'),
            el('td', {}, String(loss[s].votes_left)))))),
        (a.warnings || []).length ? el('ul', { class: 'warnings' }, a.warnings.map((w) => el('li', {}, w))) : null);
    }));
  }

  function renderToggles(d) {
    if (d.toggles.length === 0) return replace($('toggles'), el('p', {}, 'No burst toggles.'));
    const rows = d.toggles.map((t) => {
      const on = !!t.effective;
      const sched = (t.schedule || []).map((w) => el('li', {}, fmtTime(w.start) + ' → ' + fmtTime(w.end)));
      return el('tr', { 'data-toggle': t.name },
        el('th', { scope: 'row' }, t.name, el('div', { class: 'muted' }, 'site ' + t.site)),
        el('td', { class: 'effective' }, on ? badge('burst', 'ok') : badge('no-burst', 'idle')),
        el('td', {}, t.engaged ? 'engaged' : 'released'),
        el('td', {}, sched.length ? el('ul', {}, sched) : el('span', { class: 'muted' }, 'none'),
          t.expires_at ? el('div', {}, 'expires ' + fmtTime(t.expires_at)) : null),
        el('td', {}, t.url ? el('code', {}, t.url) : '—'),
        S.operate ? el('td', {}, el('button', {
          type: 'button', 'data-key': 'burst:' + t.name, class: t.engaged ? '' : 'danger',
          onclick: () => burstDialog(t, !t.engaged),
        }, t.engaged ? 'Release ' + t.name : 'Engage ' + t.name)) : null);
    });
    const heads = ['Toggle', 'Answers', 'Operator switch', 'Schedule', 'Load-balancer URL'];
    if (S.operate) heads.push('Actions');
    replace($('toggles'), table('Burst toggles', heads, rows));
  }

  function renderCluster(d) {
    const c = d.cluster;
    const leader = c.leader ? c.leader.node + ' (site ' + c.leader.site + ') since ' + fmtTime(c.leader.since) : 'no leader';
    replace($('cluster'),
      el('p', {}, 'This node ', el('strong', {}, c.node), ' (site ' + c.site + ') is ', badge(c.role, c.role === 'leader' ? 'ok' : 'idle'),
        '. Leader: ' + leader + '. Store: ' + c.store.kind + ' ', c.store.in_contact ? badge('in contact', 'ok') : badge('out of contact', 'bad'),
        c.store.reason ? ' — ' + c.store.reason : ''),
      table('Control-plane members', ['Site', 'Node', 'Alive', 'Started', 'Version'],
        (c.members || []).map((m) => el('tr', {},
          el('th', { scope: 'row' }, m.site),
          el('td', {}, m.node),
          el('td', {}, m.fresh ? badge('fresh', 'ok') : badge('gone', 'bad'), m.last_seen ? ' last seen ' + fmtTime(m.last_seen) : ''),
          el('td', {}, fmtTime(m.started)),
          el('td', {}, m.version || '—')))));
  }

  // --- events (SSE over fetch, so the token travels in a header) --------

  function addEvent(ev) {
    const li = el('li', { class: 'ev ev-' + ev.type, 'data-seq': ev.seq },
      el('time', { datetime: ev.time }, fmtTime(ev.time)), ' ',
      badge(ev.type, 'type'), ' ',
      ev.object ? el('strong', {}, ev.object + ' ') : null,
      ev.message);
    const list = $('events');
    list.prepend(li);
    while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
  }

  function parseBlock(block) {
    let id = null, data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const f = i < 0 ? line : line.slice(0, i);
      const v = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (f === 'id') id = v;
      else if (f === 'data') data += (data ? '\n' : '') + v;
    }
    if (!data) return null;
    try { return { id, ev: JSON.parse(data) }; } catch (e) { return null; }
  }

  async function follow(gen) {
    let backoff = 500;
    while (gen === S.gen && S.token) {
      const ctl = new AbortController();
      S.streamAbort = ctl;
      try {
        const headers = { Authorization: 'Bearer ' + S.token, Accept: 'text/event-stream' };
        if (S.since) headers['Last-Event-ID'] = String(S.since);
        const r = await fetch('/v1/events?follow=1&since=' + S.since, { headers, signal: ctl.signal, cache: 'no-store', credentials: 'omit' });
        if (r.status === 401) { showLogin('The token was refused (401): paste a valid one.'); return; }
        if (!r.ok) throw new Error('HTTP ' + r.status);
        $('stream-state').textContent = 'live';
        $('stream-state').className = 'pill ok';
        backoff = 500;
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value.replace(/\r\n?/g, '\n');
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const got = parseBlock(buf.slice(0, i));
            buf = buf.slice(i + 2);
            if (!got || gen !== S.gen) continue;
            S.since = Math.max(S.since, got.ev.seq || 0);
            addEvent(got.ev);
            onEvent(got.ev);
            refreshSoon();
          }
        }
      } catch (e) {
        // aborted (signed out, restarted) or the connection dropped
      }
      if (gen !== S.gen || !S.token) return;
      $('stream-state').textContent = 'reconnecting';
      $('stream-state').className = 'pill warn';
      await new Promise((res) => setTimeout(res, backoff));
      backoff = Math.min(backoff * 2, 10000);
    }
  }

  // --- actions ---------------------------------------------------------

  // waiters are actions waiting for the event that records their outcome.
  const waiters = [];
  function onEvent(ev) {
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].match(ev)) { waiters[i].done(ev); waiters.splice(i, 1); }
    }
  }
  function waitEvent(match, ms) {
    return new Promise((resolve) => {
      const w = { match, done: resolve };
      waiters.push(w);
      setTimeout(() => { const i = waiters.indexOf(w); if (i >= 0) { waiters.splice(i, 1); resolve(null); } }, ms);
    });
  }

  function showResult(text, ok) {
    const r = $('result');
    r.className = 'result ' + (ok ? 'ok' : 'bad');
    r.replaceChildren(el('span', {}, text), ' ', el('button', { type: 'button', onclick: () => r.replaceChildren(), 'aria-label': 'Dismiss' }, '×'));
  }

  // confirm opens the dialog with fields; run(values) performs the action
  // and returns a promise; the dialog stays open with the error on failure.
  function confirmDialog(title, text, okLabel, fields, run) {
    const dlg = $('confirm');
    $('confirm-h').textContent = title;
    $('confirm-text').textContent = text;
    $('confirm-error').textContent = '';
    $('confirm-ok').textContent = okLabel;
    $('confirm-fields').replaceChildren(...fields);
    const form = $('confirm-form');
    const opener = document.activeElement;
    const onSubmit = async (e) => {
      e.preventDefault();
      if (!form.reportValidity()) return;
      const values = Object.fromEntries(new FormData(form).entries());
      $('confirm-ok').disabled = true;
      try {
        await run(values);
        close();
      } catch (err) {
        $('confirm-error').textContent = err.message;
      } finally {
        $('confirm-ok').disabled = false;
      }
    };
    const close = () => {
      form.removeEventListener('submit', onSubmit);
      dlg.close();
      if (opener && document.contains(opener)) opener.focus();
    };
    form.addEventListener('submit', onSubmit);
    $('confirm-cancel').onclick = close;
    dlg.addEventListener('cancel', () => form.removeEventListener('submit', onSubmit), { once: true });
    dlg.showModal();
    const first = $('confirm-fields').querySelector('input,select');
    (first || $('confirm-cancel')).focus();
  }

  function field(label, input) {
    const id = 'f-' + input.name;
    input.id = id;
    return el('p', { class: 'field' }, el('label', { for: id }, label), input);
  }

  // act runs a mutation and shows the event that records it.
  async function act(object, action, call, describe) {
    // Listen first: the event can arrive on the stream before the
    // response does.
    const seen = waitEvent((e) => e.type === 'audit' && e.object === object && e.action === action, 5000);
    const res = await call();
    const ev = await seen;
    showResult(describe(res) + (ev ? ' — event #' + ev.seq + ': ' + ev.message : ''), true);
    refreshSoon();
    return res;
  }

  function overrideDialog(p) {
    const targets = Object.keys(p.targets).sort();
    const sel = el('select', { name: 'target', required: true }, targets.map((t) => el('option', { value: t }, t + ' (site ' + p.targets[t].site + ')')));
    const mins = el('input', { name: 'minutes', type: 'number', min: 1, max: 10080, value: 30, required: true, inputmode: 'numeric' });
    const reason = el('input', { name: 'reason', type: 'text', maxlength: 1024, required: true, placeholder: 'incident or change number' });
    confirmDialog('Override ' + p.name, 'Pin ' + p.name + ' to one target. Automatic routing resumes when the override expires or is cleared.', 'Pin target',
      [field('Target', sel), field('Expires in (minutes)', mins), field('Reason', reason)],
      (v) => act('traffic-policies/' + p.name, 'override set', () => api('PUT', '/v1/traffic-policies/' + encodeURIComponent(p.name) + '/override', {
        target: v.target, reason: v.reason, expires_at: new Date(Date.now() + Number(v.minutes) * 60000).toISOString(),
      }), (d) => p.name + ' now serves ' + servingText(d)));
  }

  function clearDialog(p) {
    confirmDialog('Clear override of ' + p.name, 'Return ' + p.name + ' to automatic routing now.', 'Clear override', [],
      () => act('traffic-policies/' + p.name, 'override clear', () => api('DELETE', '/v1/traffic-policies/' + encodeURIComponent(p.name) + '/override'),
        (d) => p.name + ' now serves ' + servingText(d)));
  }

  function burstDialog(t, engage) {
    const verb = engage ? 'Engage' : 'Release';
    confirmDialog(verb + ' ' + t.name, engage ? 'Turn site ' + t.site + ' into extra production capacity: /burst/' + t.name + ' will answer burst.'
      : 'Take site ' + t.site + ' back out of production: /burst/' + t.name + ' will answer no-burst (unless a schedule window is open).',
      verb, [],
      () => act('burst-toggles/' + t.name, engage ? 'engage' : 'release',
        () => api('PATCH', '/v1/burst-toggles/' + encodeURIComponent(t.name), { engaged: engage }),
        () => t.name + ' ' + (engage ? 'engaged' : 'released')));
  }

  function drillDialog(p) {
    const targets = Object.keys(p.targets).sort();
    const sel = el('select', { name: 'target', required: true }, targets.map((t) => el('option', { value: t }, t + ' (site ' + p.targets[t].site + ')')));
    const hold = el('input', { name: 'hold', type: 'text', value: '10m', required: true, pattern: '[0-9]+(ms|s|m|h)([0-9]+(ms|s|m|h))*' });
    const reason = el('input', { name: 'reason', type: 'text', maxlength: 1024, required: true, value: 'game day' });
    confirmDialog('Drill on ' + p.name, 'Fail ' + p.name + ' over on purpose through an override, measure the switch, hold, then fail back. Traffic really moves.', 'Start drill',
      [field('Fail over to', sel), field('Hold for (e.g. 10m, 30s)', hold), field('Reason', reason)],
      (v) => act('traffic-policies/' + p.name, 'drill run', () => api('POST', '/v1/traffic-policies/' + encodeURIComponent(p.name) + '/drills', {
        target: v.target, hold: v.hold, reason: v.reason,
      }), (x) => 'drill ' + x.id + ' started'));
  }

  function abortDialog(x) {
    confirmDialog('Abort drill ' + x.id, 'Stop the drill now and return ' + x.policy + ' to automatic routing.', 'Abort drill', [],
      () => act('drills/' + x.id, 'drill abort', () => api('POST', '/v1/drills/' + encodeURIComponent(x.id) + '/abort'),
        () => 'drill ' + x.id + ' aborted'));
  }

  // --- start -----------------------------------------------------------

  async function start() {
    try {
      S.who = await api('GET', '/v1/whoami');
    } catch (e) {
      if (e.status !== 401) showLogin('Could not reach failoverd: ' + e.message);
      return;
    }
    S.operate = S.who.scope === 'operate' || S.who.scope === 'admin';
    $('who').textContent = 'Signed in as ' + S.who.name + ' (' + S.who.scope + (S.operate ? '' : ', view only') + ')';
    $('signout').hidden = false;
    $('login').hidden = true;
    $('console').hidden = false;
    $('events-panel').hidden = false;
    document.body.classList.toggle('operate', S.operate);
    // Follow from a little before now: the recent past, not the whole log.
    S.since = Math.max(0, (S.who.last_event_seq || 0) - 50);
    await refresh();
    if (S.streamAbort) S.streamAbort.abort();
    follow(++S.gen);
    clearInterval(S.refreshTimer);
    S.refreshTimer = setInterval(refresh, REFRESH_MS);
  }

  document.addEventListener('DOMContentLoaded', () => {
    takeFragmentToken();
    $('login-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const t = $('token-input').value.trim();
      if (!t) return;
      $('token-input').value = '';
      sessionStorage.setItem(TOKEN_KEY, t);
      S.token = t;
      start();
    });
    $('signout').addEventListener('click', () => showLogin('Token forgotten.'));
    window.addEventListener('hashchange', () => { takeFragmentToken(); const t = sessionStorage.getItem(TOKEN_KEY); if (t && t !== S.token) { S.token = t; start(); } });
    S.token = sessionStorage.getItem(TOKEN_KEY);
    if (!S.token) showLogin('');
    else start();
  });
})();
