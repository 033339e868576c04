// The CompactLM playground: one tab per task the loaded models do, talking to the same server's /v1/ API.
// Plain browser JavaScript, no dependencies; the API key (if the server wants one) is kept in sessionStorage.
'use strict';

const TASK_NAMES = { 'fill-mask': 'Fill mask', classify: 'Classify', summarize: 'Summarize', chat: 'Chat', embed: 'Embed' };
const TASK_ORDER = ['fill-mask', 'classify', 'summarize', 'chat', 'embed'];
const KEY_STORAGE = 'compactlm-api-key';

const $ = (sel, root = document) => root.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) || '';
}

/** POST/GET to the API: {ok, status, body, ms}. */
async function call(path, body) {
  const headers = { accept: 'application/json' };
  const key = apiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const t = performance.now();
  const res = await fetch(path, { method: body === undefined ? 'GET' : 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json().catch(() => ({ error: { code: 'invalid_response', message: `HTTP ${res.status}` } }));
  return { ok: res.ok, status: res.status, body: json, ms: performance.now() - t, retryAfter: res.headers.get('retry-after') };
}

function percent(p) {
  return `${(p * 100).toFixed(1)}%`;
}

/** A labelled horizontal bar: label, bar (width = p), percentage. */
function bar(label, p, strong = false) {
  const fill = el('span', { class: 'fill' });
  fill.style.width = percent(Math.max(0, Math.min(1, p)));
  return el('li', { class: strong ? 'bar-row best' : 'bar-row' },
    el('span', { class: 'bar-label', text: label }),
    el('span', { class: 'bar', 'aria-hidden': 'true' }, fill),
    el('span', { class: 'bar-value', text: percent(p) }));
}

function latency(ms, extra = '') {
  return el('p', { class: 'latency', text: `${Math.round(ms)} ms${extra}` });
}

function showError(answer, r) {
  const e = r.body && r.body.error ? r.body.error : { code: 'error', message: `HTTP ${r.status}` };
  const wait = r.retryAfter ? ` (retry in ${r.retryAfter} s)` : '';
  answer.replaceChildren(el('p', { class: 'error', role: 'alert', text: `${r.status} ${e.code}: ${e.message}${wait}` }));
  if (r.status === 401) showKeyForm('The key was refused: enter a valid one.');
}

// --- one renderer per task ---------------------------------------------------------------------------------

const render = {
  'fill-mask'(r) {
    const out = el('div');
    r.masks.forEach((m, i) => {
      out.append(el('h3', { text: `[MASK] ${i + 1} of ${r.masks.length} (token ${m.position})` }));
      const list = el('ol', { class: 'bars' });
      m.predictions.forEach((p, j) => list.append(bar(p.token, p.score, j === 0)));
      out.append(list);
    });
    return out;
  },
  classify(r) {
    const list = el('ol', { class: 'bars', 'aria-label': `Label scores; predicted: ${r.label}` });
    Object.entries(r.scores).sort((a, b) => b[1] - a[1]).forEach(([label, p]) => list.append(bar(label, p, label === r.label)));
    return el('div', {}, el('p', { class: 'verdict', text: `${r.label} (${percent(r.score)})` }), list);
  },
  embed(r) {
    const norm = Math.sqrt(r.embedding.reduce((s, x) => s + x * x, 0));
    const head = r.embedding.slice(0, 8).map((x) => x.toFixed(4)).join(', ');
    return el('div', {}, el('p', { text: `${r.dim} dimensions, L2 norm ${norm.toFixed(3)}` }), el('p', { class: 'mono', text: `[${head}, …]` }));
  },
  summarize(r, text) {
    // The document with the chosen sentences highlighted, then the summary itself.
    const sentences = summarySentences(r);
    const doc = el('p', { class: 'document' });
    let at = 0;
    for (const s of sentences.chosenSpans(text)) {
      if (s.start > at) doc.append(text.slice(at, s.start));
      doc.append(el('mark', { text: text.slice(s.start, s.end) }));
      at = s.end;
    }
    if (at < text.length) doc.append(text.slice(at));
    return el('div', {}, el('h3', { text: 'Summary' }), el('p', { class: 'summary', text: sentences.summary }),
      el('h3', { text: 'In the document (chosen sentences highlighted)' }), doc);
  },
};

/** What a summarizer result says: its summary text and where its sentences sit in the document. */
function summarySentences(r) {
  const chosen = Array.isArray(r.sentences) ? r.sentences.filter((s) => s.selected !== false && s.chosen !== false) : [];
  const texts = chosen.map((s) => (typeof s === 'string' ? s : s.text));
  return {
    summary: typeof r.summary === 'string' ? r.summary : texts.join(' '),
    chosenSpans(doc) {
      const spans = [];
      for (const s of chosen) {
        if (typeof s === 'object' && Number.isInteger(s.start) && Number.isInteger(s.end)) spans.push({ start: s.start, end: s.end });
        else {
          const t = typeof s === 'string' ? s : s.text;
          const start = doc.indexOf(t);
          if (start >= 0) spans.push({ start, end: start + t.length });
        }
      }
      return spans.sort((a, b) => a.start - b.start).filter((s, i, all) => i === 0 || s.start >= all[i - 1].end);
    },
  };
}

// --- chat: a conversation, the history sent with each message ----------------------------------------------

const history = [];

function chatLine(role, text, meta) {
  const li = el('li', { class: `turn ${role}` }, el('span', { class: 'who', text: role === 'user' ? 'You' : 'Bot' }), el('span', { class: 'said', text }));
  if (meta) li.append(el('span', { class: 'latency', text: meta }));
  return li;
}

function chatReplyText(r) {
  return typeof r === 'string' ? r : (r.answer ?? r.reply ?? r.text ?? JSON.stringify(r));
}

async function sendChat(panel, form) {
  const input = form.elements.text;
  const message = input.value.trim();
  if (!message) return;
  const conv = $('.conversation', panel);
  const answer = $('.answer', panel);
  conv.append(chatLine('user', message));
  input.value = '';
  const r = await call('/v1/chat', { model: form.elements.model.value, inputs: message, history: history.slice(-20) });
  if (!r.ok) return showError(answer, r);
  answer.replaceChildren();
  const text = chatReplyText(r.body);
  const how = r.body && typeof r.body.score === 'number' ? `, match ${percent(r.body.score)}` : '';
  conv.append(chatLine('bot', text, `${Math.round(r.ms)} ms${how}`));
  history.push({ role: 'user', text: message }, { role: 'bot', text });
  input.focus();
}

// --- forms -------------------------------------------------------------------------------------------------

async function submitTask(panel, form) {
  const task = panel.dataset.task;
  if (task === 'chat') return sendChat(panel, form);
  const answer = $('.answer', panel);
  const button = $('button[type=submit]', form);
  const text = form.elements.text.value;
  const body = { model: form.elements.model.value, inputs: text };
  if (task === 'fill-mask') body.top_k = Number(form.elements.top_k.value) || 5;
  if (task === 'summarize') body.sentences = Number(form.elements.sentences.value) || 2;
  button.disabled = true;
  answer.setAttribute('aria-busy', 'true');
  try {
    const r = await call(`/v1/${task}`, body);
    if (!r.ok) return showError(answer, r);
    answer.replaceChildren(render[task](r.body, text), latency(r.ms));
  } catch (e) {
    answer.replaceChildren(el('p', { class: 'error', role: 'alert', text: `request failed: ${e.message}` }));
  } finally {
    button.disabled = false;
    answer.removeAttribute('aria-busy');
  }
}

// --- tabs (WAI-ARIA tabs pattern: arrow keys, Home, End; one tab in the tab order) -------------------------

function selectTab(tab, focus = true) {
  for (const t of document.querySelectorAll('[role=tab]')) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    $(`#${t.getAttribute('aria-controls')}`).hidden = !on;
  }
  if (focus) tab.focus();
}

function buildTabs(tasks) {
  const list = $('#tabs');
  list.replaceChildren();
  for (const task of TASK_ORDER.filter((t) => tasks.includes(t))) {
    const tab = el('button', { type: 'button', role: 'tab', id: `tab-${task}`, 'aria-controls': `panel-${task}`, 'aria-selected': 'false', text: TASK_NAMES[task] });
    tab.tabIndex = -1;
    tab.addEventListener('click', () => selectTab(tab));
    list.append(tab);
  }
  list.hidden = tasks.length === 0;
  const first = list.querySelector('[role=tab]');
  if (first) selectTab(first, false);
}

function onTabKey(e) {
  const tabs = [...e.currentTarget.querySelectorAll('[role=tab]')];
  const i = tabs.indexOf(document.activeElement);
  if (i < 0) return;
  const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
  if (next === undefined) return;
  e.preventDefault();
  selectTab(tabs[(next + tabs.length) % tabs.length]);
}

function fillModels(models) {
  for (const panel of document.querySelectorAll('.panel')) {
    const select = $('select[name=model]', panel);
    select.replaceChildren(...models.filter((m) => m.tasks.includes(panel.dataset.task)).map((m) => el('option', { value: m.name, text: m.name })));
  }
}

// --- start: ask the server what it serves ------------------------------------------------------------------

function showKeyForm(message) {
  $('#key-section').hidden = false;
  $('#key-error').textContent = message || '';
  $('#api-key').focus();
}

async function start() {
  const status = $('#server-status');
  let r;
  try {
    r = await call('/v1/models');
  } catch (e) {
    status.textContent = `Cannot reach the server (${e.message}); retrying…`;
    return setTimeout(start, 2000);
  }
  if (r.status === 401) {
    status.textContent = 'Enter the API key to start.';
    return showKeyForm(apiKey() ? 'The key was refused: enter a valid one.' : '');
  }
  if (r.status === 503) {
    status.textContent = `${r.body.error ? r.body.error.message : 'Not ready'}…`;
    return setTimeout(start, 1000);
  }
  if (!r.ok) {
    status.textContent = `The server answered ${r.status}: ${r.body.error ? r.body.error.message : ''}`;
    return;
  }
  $('#key-section').hidden = true;
  const models = r.body.models;
  const tasks = [...new Set(models.flatMap((m) => m.tasks))];
  const keyNote = apiKey() ? ' · API key in use' : '';
  status.textContent = `${models.length} model${models.length === 1 ? '' : 's'}: ${models.map((m) => `${m.name} (${m.tasks.join(', ')})`).join('; ')}${keyNote}`;
  fillModels(models);
  buildTabs(tasks);
}

document.addEventListener('DOMContentLoaded', () => {
  $('#tabs').addEventListener('keydown', onTabKey);
  $('#key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY_STORAGE, $('#api-key').value.trim());
    $('#api-key').value = '';
    $('#key-error').textContent = '';
    start();
  });
  for (const panel of document.querySelectorAll('.panel')) {
    $('form', panel).addEventListener('submit', (e) => {
      e.preventDefault();
      submitTask(panel, e.target);
    });
  }
  start();
});
