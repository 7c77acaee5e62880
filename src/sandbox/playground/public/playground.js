// The playground page: polls /api/state and the selected user's chat, renders them with DOM
// nodes only (never innerHTML, so every text the bot or the catalog sends is shown as text).
'use strict';

const $ = (id) => document.getElementById(id);
let selectedUser = null;
let lastStateJson = '';
let lastChatJson = '';
let state = null;
let busy = 0;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function toast(message, kind) {
  const t = $('toast');
  t.textContent = message;
  t.className = `toast ${kind || ''}`;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), 5000);
}

async function api(path, body) {
  const res = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
  return data;
}

/** Runs an action, shows its error, and refreshes at once. */
async function act(what, fn) {
  busy++;
  document.body.classList.add('busy');
  try {
    return await fn();
  } catch (error) {
    toast(`${what}: ${error.message}`, 'error');
  } finally {
    busy--;
    if (busy === 0) document.body.classList.remove('busy');
    refresh();
  }
}

// ---- formatting ----

const INVITE = /^(?:https?:\/\/)?t\.me\/(?:\+|joinchat\/)[\w-]+$/i;

function isSafeUrl(url) {
  return /^(https?:|tg:)/i.test(url);
}

/** A link in a bot message: invite links and the bot's deep links act inside the playground. */
function linkNode(url, label) {
  const u = url.trim();
  if (INVITE.test(u)) {
    return el('a', { href: '#', class: 'invite-link', 'data-link': u, title: 'Open this invite link as the selected customer', onclick: (e) => { e.preventDefault(); openInvite(u); } }, label);
  }
  const start = state && new RegExp(`^(?:https?://)?t\\.me/${state.bot.username}\\?start=([\\w-]+)$`, 'i').exec(u);
  if (start) {
    return el('a', { href: '#', onclick: (e) => { e.preventDefault(); sendText(`/start ${start[1]}`); } }, label);
  }
  if (!isSafeUrl(u)) return el('span', {}, label);
  return el('a', { href: u, target: '_blank', rel: 'noopener noreferrer' }, label);
}

const TAGS = { bold: 'b', italic: 'i', underline: 'u', strikethrough: 's', spoiler: 'span', code: 'code', pre: 'pre', blockquote: 'blockquote', expandable_blockquote: 'blockquote' };

/** Text + Telegram entities → DOM (entities may nest; offsets are UTF-16 units, as in JS). */
function renderText(text, entities) {
  const frag = document.createDocumentFragment();
  const list = (entities || []).filter((e) => e.length > 0).sort((a, b) => a.offset - b.offset || b.length - a.length);
  // Telegram's apps link bare URLs themselves; so does the page (outside links the bot set).
  function plain(parent, str, inLink) {
    if (inLink) return parent.append(str);
    const re = /(?:https?:\/\/|\bt\.me\/)[^\s<>"]+/gi;
    let last = 0;
    for (const m of str.matchAll(re)) {
      const url = m[0].replace(/[.,;:!?)\]»]+$/, '');
      if (m.index > last) parent.append(str.slice(last, m.index));
      parent.append(linkNode(url, url));
      last = m.index + url.length;
    }
    if (last < str.length) parent.append(str.slice(last));
  }
  function build(parent, from, to, ents, inLink) {
    let pos = from;
    let i = 0;
    while (i < ents.length) {
      const e = ents[i];
      if (e.offset > pos) plain(parent, text.slice(pos, e.offset), inLink);
      const end = Math.min(e.offset + e.length, to);
      const inner = [];
      let j = i + 1;
      while (j < ents.length && ents[j].offset < end) {
        if (ents[j].offset + ents[j].length <= end) inner.push(ents[j]);
        j++;
      }
      const slice = text.slice(e.offset, end);
      let node;
      if (e.type === 'text_link') node = linkNode(e.url || '', '');
      else if (e.type === 'url') node = linkNode(slice, '');
      else if (e.type === 'text_mention' || e.type === 'mention') node = el('span', { class: 'mention' });
      else node = el(TAGS[e.type] || 'span', { class: e.type === 'spoiler' ? 'spoiler' : undefined });
      build(node, e.offset, end, inner, inLink || node.tagName === 'A');
      parent.append(node);
      pos = Math.max(pos, end);
      i = j;
    }
    if (pos < to) plain(parent, text.slice(pos, to), inLink);
  }
  build(frag, 0, text.length, list, false);
  return frag;
}

function time(ms) {
  const tz = state && state.clock.timezone;
  try {
    return new Intl.DateTimeFormat('en-GB', { timeZone: tz, day: '2-digit', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' }).format(new Date(ms));
  } catch {
    return new Date(ms).toISOString();
  }
}

// ---- actions ----

const userPath = (suffix) => `/api/users/${selectedUser}/${suffix}`;
const sendText = (text) => act('Send', () => api(userPath('text'), { text }));
const press = (messageId, label) => act(`Button "${label}"`, () => api(userPath('press'), { messageId, label }));
const shareContact = () => act('Share contact', () => api(userPath('contact'), {}));
async function openInvite(link) {
  await act('Invite link', async () => {
    const r = await api(userPath('invite'), { link });
    toast(`Invite link: ${r.result === 'requested' ? 'join request sent — the bot decides' : r.result}`, r.result === 'refused' ? 'error' : '');
  });
}

// ---- rendering ----

function renderUsers() {
  const tabs = $('user-tabs');
  tabs.replaceChildren(
    ...state.users.map((u) =>
      el('button', { class: `user-tab${u.id === selectedUser ? ' active' : ''}${u.creator ? ' creator' : ''}`, 'data-user': u.id, onclick: () => selectUser(u.id) }, u.label),
    ),
  );
}

function selectUser(id) {
  selectedUser = id;
  lastChatJson = '';
  localStorage.setItem('playground-user', String(id));
  renderUsers();
  refresh();
}

function renderChat(data) {
  const chat = $('chat');
  const atBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 40;
  const items = [];
  const actions = [...data.actions].sort((a, b) => a.seq - b.seq);
  let k = 0;
  for (const m of data.messages) {
    while (k < actions.length && actions[k].afterId < m.id) items.push({ action: actions[k++] });
    items.push({ message: m });
  }
  while (k < actions.length) items.push({ action: actions[k++] });

  const nodes = items.map((item) => {
    if (item.action) return el('div', { class: 'bubble user' }, item.action.text, el('span', { class: 'meta' }, time(item.action.at)));
    const m = item.message;
    const bubble = el('div', { class: 'bubble bot', 'data-message-id': m.id });
    const body = el('div', { class: 'text' });
    body.append(renderText(m.text, m.entities));
    bubble.append(body);
    if (m.document) {
      bubble.append(el('a', { class: 'document', href: `/api/files/${encodeURIComponent(m.document.fileId)}`, download: m.document.name }, `📄 ${m.document.name} (${Math.max(1, Math.round(m.document.size / 1024))} KB)`));
    }
    if (m.buttons) {
      const kb = el('div', { class: 'inline-keyboard' });
      for (const row of m.buttons) {
        kb.append(
          el('div', { class: 'row' }, row.map((b) => {
            if (b.callback) return el('button', { class: 'inline-button', onclick: () => press(m.id, b.text) }, b.text);
            if (b.url) {
              const a = linkNode(b.url, b.text);
              a.classList.add('inline-button', 'url');
              return a;
            }
            return el('button', { class: 'inline-button', disabled: true }, b.text);
          })),
        );
      }
      bubble.append(kb);
    }
    bubble.append(el('span', { class: 'meta' }, `${time(m.date)}${m.edited ? ' · edited' : ''}`));
    return bubble;
  });
  if (nodes.length === 0) nodes.push(el('p', { class: 'muted empty' }, 'No messages yet. Send /start, or open a deep link above.'));
  chat.replaceChildren(...nodes);
  if (atBottom || chat.dataset.user !== String(selectedUser)) chat.scrollTop = chat.scrollHeight;
  chat.dataset.user = String(selectedUser);

  // The reply keyboard: the latest one the bot sent, unless it was removed after.
  const rk = $('reply-keyboard');
  let keyboard = null;
  for (const m of data.messages) {
    if (m.keyboard) keyboard = m.keyboard;
    else if (m.removeKeyboard) keyboard = null;
  }
  rk.hidden = !keyboard;
  rk.replaceChildren(
    ...(keyboard || []).map((row) =>
      el('div', { class: 'row' }, row.map((b) =>
        el('button', { class: `reply-button${b.contact ? ' contact' : ''}`, onclick: () => (b.contact ? shareContact() : sendText(b.text)) }, b.contact ? `📱 ${b.text}` : b.text),
      )),
    ),
  );
}

function renderInvoices() {
  const box = $('invoices');
  if (state.invoices.length === 0) {
    box.replaceChildren(el('p', { class: 'muted' }, 'No invoices yet. Buy something in the chat.'));
    return;
  }
  const statusText = { pending: 'waiting for you', paid: 'paid ✓', expired: 'expired', error: 'failed' };
  box.replaceChildren(
    ...[...state.invoices].reverse().map((inv) =>
      el('div', { class: `invoice ${inv.status}`, 'data-invoice': inv.id },
        el('div', { class: 'invoice-head' }, el('strong', {}, 'Kaspi.kz'), el('span', { class: 'muted' }, `${inv.customer || ''} · +${inv.phone}`)),
        el('div', { class: 'invoice-amount' }, `${inv.amount.toLocaleString('ru-RU')} ₸`),
        el('div', {}, inv.description),
        el('div', { class: 'invoice-status' }, statusText[inv.status] || inv.status),
        inv.status === 'pending'
          ? el('div', { class: 'invoice-actions' },
              el('button', { class: 'pay', onclick: () => act('Pay', () => api(`/api/invoices/${encodeURIComponent(inv.id)}/pay`, {})) }, 'Pay'),
              el('button', { onclick: () => act('Expire', () => api(`/api/invoices/${encodeURIComponent(inv.id)}/expire`, {})) }, 'Let it expire'),
              el('button', { class: 'fail', onclick: () => act('Fail', () => api(`/api/invoices/${encodeURIComponent(inv.id)}/fail`, {})) }, 'Fail'))
          : null,
      ),
    ),
  );
}

function renderChats() {
  $('chats').replaceChildren(
    ...state.chats.map((c) => {
      const pending = c.joinRequests.filter((r) => r.status === 'pending');
      return el('div', { class: 'chat-card', 'data-chat': c.key },
        el('h3', {}, c.title, el('span', { class: 'muted' }, ` ${c.key} · ${c.chatId}`)),
        el('div', { class: 'label' }, `Members (${c.members.length})`),
        el('ul', { class: 'members' }, c.members.length ? c.members.map((m) => el('li', { 'data-member': m.id }, m.name, el('span', { class: 'muted' }, ` ${m.status}`))) : el('li', { class: 'muted' }, 'nobody yet')),
        pending.length ? el('div', { class: 'label' }, 'Pending join requests') : null,
        pending.length ? el('ul', { class: 'requests' }, pending.map((r) => el('li', {}, r.name, el('span', { class: 'muted' }, ` since ${time(r.date)}`)))) : null,
        c.joinRequests.some((r) => r.status !== 'pending') ? el('div', { class: 'label' }, 'Decided join requests') : null,
        el('ul', { class: 'requests' }, c.joinRequests.filter((r) => r.status !== 'pending').map((r) => el('li', {}, `${r.name} — ${r.status}`))),
        c.removals.length ? el('div', { class: 'label' }, 'Removed by the bot') : null,
        el('ul', { class: 'removals' }, c.removals.map((r) => el('li', {}, `${r.name} — ${time(r.at)}`))),
      );
    }),
  );
}

function renderCatalog() {
  const box = $('catalog-status');
  const c = state.catalog;
  // Errors are .problem, warnings .warning: the catalog works with warnings, they are worth a look.
  const list = () =>
    el('ul', {}, c.problems.map((p) => {
      const warning = p.severity === 'warning';
      return el('li', { class: warning ? 'warning' : 'problem' }, el('strong', {}, `${warning ? '⚠ warning, ' : ''}line ${p.line}, column ${p.col}`), ` ${p.path || '(file)'} — ${p.message}`);
    }));
  if (c.ok) {
    box.className = 'catalog-status ok';
    box.replaceChildren(`✓ ${c.path} is live — edit and save it, the bot reloads it. ${c.summary || ''}`);
    if (c.problems.length > 0) box.append(el('div', {}, `It works, but check ${c.problems.length === 1 ? 'this warning' : `these ${c.problems.length} warnings`}:`), list());
    return;
  }
  box.className = 'catalog-status bad';
  box.replaceChildren(
    el('div', {}, `✗ Your last edit of ${c.path} was not applied — the bot keeps the previous version. Fix and save again:`),
    list(),
  );
}

/** The jump buttons: enabled when there is something to jump to, with where and whose in the tooltip. */
function renderJumps() {
  for (const b of document.querySelectorAll('[data-jump]')) {
    const target = state.clock.jumps[b.dataset.jump];
    b.disabled = !target;
    b.title = target ? `${time(target.at)} — ${target.customer}, ${target.planId}` : 'Nothing to jump to: no running subscription has one coming';
  }
}

function renderState() {
  $('bot-name').textContent = state.bot.name;
  $('bot-username').textContent = `@${state.bot.username}`;
  $('deeplink-prefix').textContent = `t.me/${state.bot.username}?start=`;
  $('clock-now').textContent = time(state.clock.now);
  const { movedMs, pinnedStart } = state.clock;
  const days = movedMs / 86_400_000;
  const moved = `${days >= 1 ? `${Math.round(days * 10) / 10} days` : `${Math.round(days * 24)} h`} ahead`;
  $('clock-offset').textContent =
    pinnedStart === null ? (movedMs > 0 ? `(${moved} of real time)` : '(real time)') : `(started ${time(pinnedStart)}${movedMs > 0 ? `, moved ${moved}` : ''})`;
  renderUsers();
  renderInvoices();
  renderChats();
  renderCatalog();
}

async function refresh() {
  try {
    const s = await api('/api/state');
    // The clock moves every poll; everything else is re-drawn only when it changed (so a click never hits a replaced button).
    const json = JSON.stringify({ ...s, clock: { timezone: s.clock.timezone, offsetMs: s.clock.offsetMs, pinnedStart: s.clock.pinnedStart } });
    state = s;
    $('clock-now').textContent = time(s.clock.now);
    renderJumps();
    if (selectedUser === null || !s.users.some((u) => u.id === selectedUser)) {
      const saved = Number(localStorage.getItem('playground-user'));
      const pick = s.users.find((u) => u.id === saved) || s.users.find((u) => !u.creator) || s.users[0];
      selectedUser = pick ? pick.id : null;
    }
    const stateChanged = json !== lastStateJson;
    if (stateChanged) {
      lastStateJson = json;
      renderState();
    }
    if (selectedUser !== null) {
      const chat = await api(userPath('chat'));
      const chatJson = JSON.stringify(chat);
      if (chatJson !== lastChatJson || stateChanged) {
        lastChatJson = chatJson;
        renderChat(chat);
      }
    }
    document.body.classList.remove('offline');
  } catch {
    document.body.classList.add('offline');
  }
}

// ---- wiring ----

$('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('message-input');
  const text = input.value.trim();
  if (!text) return;
  input.value = '';
  sendText(text);
});
$('deeplink-open').addEventListener('click', () => {
  const payload = $('deeplink-input').value.trim();
  sendText(payload ? `/start ${payload}` : '/start');
});
$('deeplink-input').addEventListener('keydown', (e) => {
  if (e.key === 'Enter') $('deeplink-open').click();
});
/** Moves the bot's clock (the server runs every job after each hour it moves). */
function travel(path, body) {
  return act('Clock', async () => {
    document.body.classList.add('time-travel');
    try {
      await api(path, body);
    } finally {
      document.body.classList.remove('time-travel');
    }
  });
}
for (const b of document.querySelectorAll('[data-hours]')) {
  b.addEventListener('click', () => travel('/api/clock', { hours: Number(b.dataset.hours) }));
}
for (const b of document.querySelectorAll('[data-jump]')) {
  b.addEventListener('click', () => travel('/api/clock/jump', { to: b.dataset.jump }));
}

let polling = false;
setInterval(async () => {
  if (polling) return;
  polling = true;
  await refresh();
  polling = false;
}, 700);
refresh();
