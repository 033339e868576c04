// The Turing-test page: fetches an item from GET /v1/turing/next, shows the prompt and the two answers (as text,
// never as HTML), and posts the vote to POST /v1/turing/vote. It never learns which system wrote which answer:
// the server keeps the order and hands out only an opaque item_id.
'use strict';

const $ = (id) => document.getElementById(id);
// The server's API key, when it has one: kept where the playground keeps it (same origin, this tab only).
const KEY_STORAGE = 'compactlm-api-key';
let itemId = null;
let judged = 0;

/** A per-browser judge id, so the server does not show the same item twice to one person. */
function judgeId() {
  try {
    let id = localStorage.getItem('compactlm-turing-judge');
    if (!id) {
      id = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2)).replace(/[^A-Za-z0-9-]/g, '');
      localStorage.setItem('compactlm-turing-judge', id);
    }
    return id;
  } catch {
    return null; // storage off: anonymous judging still works
  }
}
const judge = judgeId();

function headers(extra) {
  const h = { accept: 'application/json', ...extra };
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) h.authorization = `Bearer ${key}`;
  return h;
}

/** A 401: ask for the key, then try again. */
function askKey(message) {
  $('key-form').hidden = false;
  setStatus(message);
  $('key').focus();
}

function setStatus(text) {
  $('status').textContent = text;
}

function show(item) {
  itemId = item ? item.item_id : null;
  $('prompt').textContent = item ? item.prompt : '';
  $('answer-a').textContent = item ? item.answers.A : '';
  $('answer-b').textContent = item ? item.answers.B : '';
  const form = $('vote');
  form.reset();
  for (const input of form.elements) input.disabled = !item;
  updateSubmit();
}

function updateSubmit() {
  $('submit').disabled = !itemId || !document.querySelector('input[name="choice"]:checked');
}

async function errorText(res) {
  try {
    const body = await res.json();
    return body.error ? body.error.message : `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

async function next() {
  show(null);
  $('prompt').textContent = 'Loading…';
  const res = await fetch(`/v1/turing/next${judge ? `?judge=${encodeURIComponent(judge)}` : ''}`, { headers: headers() });
  if (res.status === 401) {
    $('prompt').textContent = '';
    askKey(sessionStorage.getItem(KEY_STORAGE) ? 'The key was refused: enter a valid one.' : 'Enter the API key to start judging.');
    return;
  }
  if (res.status === 404) {
    show(null);
    $('prompt').textContent = 'Nothing left to judge. Thank you!';
    return;
  }
  if (!res.ok) {
    show(null);
    $('prompt').textContent = '';
    setStatus(`Could not load an item: ${await errorText(res)}`);
    return;
  }
  show(await res.json());
  $('prompt').focus();
}

async function vote(event) {
  event.preventDefault();
  const choice = document.querySelector('input[name="choice"]:checked');
  if (!itemId || !choice) return;
  const guess = document.querySelector('input[name="human_guess"]:checked');
  const body = { item_id: itemId, choice: choice.value, human_guess: guess && guess.value ? guess.value : null };
  $('submit').disabled = true;
  const res = await fetch('/v1/turing/vote', { method: 'POST', headers: headers({ 'content-type': 'application/json' }), body: JSON.stringify(body) });
  if (!res.ok) {
    setStatus(`Vote not counted: ${await errorText(res)}`);
    updateSubmit();
    return;
  }
  judged++;
  $('count').textContent = `You have judged ${judged} item${judged === 1 ? '' : 's'}.`;
  setStatus('Vote counted. Here is the next one.');
  await next();
}

const KEYS = { 1: ['choice', 'A'], 2: ['choice', 'B'], 3: ['choice', 'tie'], 4: ['choice', 'bad'], a: ['human_guess', 'A'], b: ['human_guess', 'B'], n: ['human_guess', ''] };

document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || !itemId) return;
  const key = KEYS[e.key.toLowerCase()];
  if (key) {
    const input = document.querySelector(`input[name="${key[0]}"][value="${key[1]}"]`);
    input.checked = true;
    input.focus();
    updateSubmit();
    e.preventDefault();
  } else if (e.key === 'Enter' && !$('submit').disabled) {
    $('vote').requestSubmit();
    e.preventDefault();
  }
});

document.addEventListener('DOMContentLoaded', () => {
  $('vote').addEventListener('submit', vote);
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY_STORAGE, $('key').value.trim());
    $('key-form').hidden = true;
    setStatus('');
    next().catch((err) => setStatus(`Could not load an item: ${err.message}`));
  });
  $('vote').addEventListener('change', updateSubmit);
  next().catch((e) => setStatus(`Could not load an item: ${e.message}`));
});
