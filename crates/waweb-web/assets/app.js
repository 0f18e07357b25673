// The waweb page: QR login, chat list, conversation and composer, driven by the server's event
// stream (`/api/events`) and a few JSON requests. See docs/web.md for the API.

import { h, svg } from './tree.js';
import { Inspector } from './inspector.js';

// ---------------------------------------------------------------- token and requests

const TOKEN_KEY = 'waweb-token';
let token = null;
{
  const q = new URLSearchParams(location.search);
  token = q.get('token');
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    q.delete('token'); // keep it out of the address bar and history
    const rest = q.toString();
    history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : '') + location.hash);
  } else {
    token = sessionStorage.getItem(TOKEN_KEY);
  }
}

/** A same-origin URL for `path` with `query` and the start token. */
function api(path, query = {}) {
  const u = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query)) if (v !== null && v !== undefined) u.searchParams.set(k, String(v));
  if (token) u.searchParams.set('token', token);
  return u.pathname + u.search;
}

/** A server-made URL (media) with the token added. */
function withToken(url) {
  if (!url) return url;
  const u = new URL(url, location.origin);
  if (u.origin !== location.origin) return url;
  if (token) u.searchParams.set('token', token);
  return u.pathname + u.search;
}

async function postJSON(path, body, query) {
  const r = await fetch(api(path, query), {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  if (r.status === 401) { authError(); throw new Error('unauthorized'); }
  let out = null;
  try { out = await r.json(); } catch { /* not JSON */ }
  if (!r.ok || (out && out.ok === false)) throw new Error(out?.error || `HTTP ${r.status}`);
  return out || {};
}

async function cmd(body) {
  try {
    return await postJSON('/api/cmd', body);
  } catch (e) {
    if (e.message !== 'unauthorized') toast(`${body.cmd}: ${e.message}`, 'error');
    return null;
  }
}

// ---------------------------------------------------------------- state

const S = {
  mode: null,
  auth: { state: 'connecting', detail: null, qr: null, me: null },
  everLoggedIn: false,
  chats: new Map(), // jid -> ChatView
  contacts: {},
  presence: {}, // jid -> {presence, t, at}
  battery: null,
  open: null, // jid of the open conversation
  msgs: new Map(), // id -> MsgView of the open conversation
  reply: null, // MsgView being answered
  archivedView: false,
  linkUp: false,
};

const $ = (id) => document.getElementById(id);
const el = {
  login: $('login'), app: $('app'), qrBox: $('qr-box'), authError: $('auth-error'), link: $('link-status'),
  me: $('me'), list: $('chats'), search: $('search'), battery: $('battery'), banner: $('conn-banner'),
  conv: $('conversation'), convEmpty: $('conv-empty'), convHead: $('conv-head'), msgList: $('messages'),
  composer: $('composer'), send: $('send'), attach: $('attach'), file: $('file-input'), replyBox: $('reply-preview'),
  uploads: $('uploads'), menu: $('menu'), menuPop: $('menu-pop'), inspector: $('inspector'), toasts: $('toasts'),
  lightbox: $('lightbox'), sim: $('sim-drawer'), simToggle: $('sim-toggle'),
};

const inspector = new Inspector(el.inspector, api, () => showInspector(false));

// ---------------------------------------------------------------- formatting

function hash(s) {
  let x = 2166136261;
  for (let i = 0; i < s.length; i++) { x ^= s.charCodeAt(i); x = Math.imul(x, 16777619); }
  return x >>> 0;
}
const colour = (jid) => `hsl(${hash(jid || '') % 360} 45% 52%)`;
const nameColour = (jid) => `hsl(${hash(jid || '') % 360} 60% 36%)`;

function initials(name) {
  const words = String(name || '?').replace(/[^\p{L}\p{N} ]/gu, ' ').trim().split(/\s+/).filter(Boolean);
  if (!words.length) return '?';
  if (/^\d+$/.test(words[0])) return '#';
  return (words[0][0] + (words[1]?.[0] || '')).toUpperCase();
}

function avatar(jid, name, big = false) {
  return h('div', { class: `avatar${big ? ' big' : ''}`, style: `background:${colour(jid)}`, 'aria-hidden': 'true',
    text: initials(name) });
}

const pad = (n) => String(n).padStart(2, '0');
const hhmm = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;
const dayKey = (d) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;

function when(t) { return new Date((t || 0) * 1000); }

function listTime(t) {
  if (!t) return '';
  const d = when(t);
  const now = new Date();
  if (dayKey(d) === dayKey(now)) return hhmm(d);
  const y = new Date(now); y.setDate(now.getDate() - 1);
  if (dayKey(d) === dayKey(y)) return 'Yesterday';
  return d.toLocaleDateString();
}

function dayLabel(d) {
  const now = new Date();
  if (dayKey(d) === dayKey(now)) return 'TODAY';
  const y = new Date(now); y.setDate(now.getDate() - 1);
  if (dayKey(d) === dayKey(y)) return 'YESTERDAY';
  return d.toLocaleDateString(undefined, { day: 'numeric', month: 'long', year: 'numeric' }).toUpperCase();
}

function bytes(n) {
  if (typeof n !== 'number') return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function chatName(jid) {
  return S.chats.get(jid)?.name || S.contacts[jid] || jid.replace(/@.*/, '');
}

function preview(m) {
  const labels = { image: '📷 Photo', sticker: 'Sticker', video: '🎥 Video', audio: '🎤 Audio', location: '📍 Location' };
  if (m.kind === 'document') return `📄 ${m.media?.file_name || 'Document'}`;
  if (m.kind === 'contact') return `👤 ${m.contact?.display_name || 'Contact'}`;
  if (m.kind === 'other') return '[unsupported message]';
  if (m.text) return (labels[m.kind] ? `${labels[m.kind]}: ` : '') + m.text;
  return labels[m.kind] || '';
}

/** The status marks: a clock while pending, ✓ at the server, ✓✓ delivered, blue ✓✓ read. */
function ticks(status) {
  if (status === 'pending') {
    return h('span', { class: 'ticks pending', 'data-testid': 'ticks', title: 'Pending' },
      svg('svg', { viewBox: '0 0 16 16', width: 14, height: 14, 'aria-hidden': 'true' },
        svg('circle', { cx: 8, cy: 8, r: 6, fill: 'none', stroke: 'currentColor', 'stroke-width': 1.4 }),
        svg('path', { d: 'M8 4.5V8l2.5 1.5', fill: 'none', stroke: 'currentColor', 'stroke-width': 1.4 })));
  }
  if (status === 'error') return h('span', { class: 'ticks error', 'data-testid': 'ticks', title: 'Not sent', text: '!' });
  const double = status === 'delivered' || status === 'read' || status === 'played';
  const blue = status === 'read' || status === 'played';
  const titles = { server: 'Sent', delivered: 'Delivered', read: 'Read', played: 'Played' };
  return h('span', { class: `ticks${blue ? ' blue' : ''}${double ? ' double' : ''}`, 'data-testid': 'ticks',
    title: titles[status] || status || '' },
  svg('svg', { viewBox: double ? '0 0 18 12' : '0 0 12 12', width: double ? 17 : 12, height: 12, 'aria-hidden': 'true' },
    svg('path', { d: 'M1 6.5l3 3L11 2.5', fill: 'none', stroke: 'currentColor', 'stroke-width': 1.6, 'stroke-linecap': 'round' }),
    double ? svg('path', { d: 'M7 9.5L14.5 2.5', fill: 'none', stroke: 'currentColor', 'stroke-width': 1.6, 'stroke-linecap': 'round' }) : null));
}

// ---------------------------------------------------------------- notices

function toast(text, level = 'info') {
  const t = h('div', { class: `toast ${level}`, 'data-testid': 'notice', role: 'status', text });
  el.toasts.append(t);
  setTimeout(() => t.remove(), level === 'error' ? 8000 : 4000);
}

let authFailed = false;
function authError() {
  if (authFailed) return;
  authFailed = true;
  es?.close();
  el.login.hidden = true;
  el.app.hidden = true;
  el.authError.hidden = false;
}

// ---------------------------------------------------------------- event stream

let es = null;
let reconnectTimer = null;

function connect() {
  if (authFailed) return;
  clearTimeout(reconnectTimer);
  const src = new EventSource(api('/api/events'));
  es = src;
  src.onopen = () => setLink(true);
  src.onmessage = (e) => {
    let ev;
    try { ev = JSON.parse(e.data); } catch { return; }
    try { handle(ev); } catch (err) { console.error('event', ev?.type, err); }
  };
  src.onerror = async () => {
    if (src !== es) return;
    setLink(false);
    try {
      const r = await fetch(api('/api/frames'));
      r.body?.cancel().catch(() => {});
      if (r.status === 401) { authError(); return; }
    } catch { /* the server is away: keep trying */ }
    // EventSource retries by itself unless the answer closed it for good.
    if (src.readyState === EventSource.CLOSED && src === es) reconnectTimer = setTimeout(connect, 2000);
  };
}

function setLink(up) {
  S.linkUp = up;
  el.link.hidden = up;
}

function handle(ev) {
  switch (ev.type) {
    case 'snapshot':
      S.mode = ev.mode;
      S.chats = new Map((ev.chats || []).map((c) => [c.jid, c]));
      S.contacts = ev.contacts || {};
      S.presence = {};
      for (const [jid, p] of Object.entries(ev.presence || {})) applyPresence(jid, p?.presence, p?.t, null);
      S.battery = ev.battery || null;
      setAuth(ev.auth || { state: 'connecting' });
      renderChats();
      renderBattery();
      renderSim();
      if (S.open && S.auth.state === 'logged_in') loadMessages(S.open);
      inspector.onSnapshot();
      break;
    case 'auth':
      setAuth(ev);
      break;
    case 'chat':
      if (ev.chat?.jid) {
        S.chats.set(ev.chat.jid, ev.chat);
        if (ev.chat.jid === S.open) { S.chats.get(S.open).unread = 0; renderConvHead(); }
        scheduleChats();
      }
      break;
    case 'message':
      if (ev.message) onMessage(ev.message);
      break;
    case 'contacts':
      S.contacts = ev.contacts || {};
      scheduleChats();
      renderSim();
      break;
    case 'presence':
      if (ev.jid) {
        applyPresence(ev.jid, ev.presence, ev.t, ev.participant);
        if (ev.jid === S.open) renderPresence();
        scheduleChats();
      }
      break;
    case 'battery':
      S.battery = { value: ev.value, charging: ev.charging };
      renderBattery();
      break;
    case 'frame':
      inspector.add(ev.frame);
      break;
    case 'upload':
      onUploadEvent(ev);
      break;
    case 'notice':
      toast(ev.text || '', ev.level === 'error' ? 'error' : 'info');
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------- login

function setAuth(a) {
  const was = S.auth.state;
  S.auth = { state: a.state, detail: a.detail ?? null, qr: a.qr ?? null, me: a.me ?? null };
  if (S.auth.state === 'logged_in') S.everLoggedIn = true;
  if (S.auth.state === 'stopped' || S.auth.state === 'qr') S.everLoggedIn = false;
  if (was !== S.auth.state && !S.everLoggedIn && S.open) closeChat();
  renderAuth();
}

function renderAuth() {
  if (authFailed) return;
  const { state } = S.auth;
  const inApp = state === 'logged_in' || (state === 'disconnected' && S.everLoggedIn) || (state === 'connecting' && S.everLoggedIn);
  el.app.hidden = !inApp;
  el.login.hidden = inApp;
  document.body.classList.toggle('logged-in', inApp);
  if (inApp) {
    el.banner.hidden = state === 'logged_in';
    el.banner.textContent = state === 'logged_in' ? '' : `Reconnecting to WhatsApp…${S.auth.detail ? ` (${S.auth.detail})` : ''}`;
    const me = S.auth.me || {};
    el.me.replaceChildren(avatar(me.wid || '', me.pushname || me.wid || '?'),
      h('span', { class: 'me-name', 'data-testid': 'me', text: me.pushname || (me.wid || '').replace(/@.*/, '') }));
    return;
  }
  el.qrBox.replaceChildren(...loginBox());
}

function spinner(text, testid = 'auth-status') {
  return [h('div', { class: 'qr-frame placeholder' }, h('div', { class: 'spinner', 'aria-hidden': 'true' })),
    h('p', { class: 'qr-info', 'data-testid': testid, role: 'status', text })];
}

function loginBox() {
  const { state, detail, qr } = S.auth;
  if (state === 'qr' && qr?.code) {
    const img = h('img', { alt: 'QR code to scan with the phone', width: 264, height: 264,
      src: qr.svg ? `data:image/svg+xml;charset=utf-8,${encodeURIComponent(qr.svg)}` : '' });
    const ms = qr.ttl_ms || 0;
    const secs = ms < 10000 && ms % 1000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000));
    const n = (qr.attempt ?? 0) + 1;
    return [
      h('div', { class: 'qr-frame', id: 'qr', 'data-testid': 'qr', 'data-qr': qr.code, title: qr.code }, img),
      h('p', { class: 'qr-info', 'data-testid': 'qr-info',
        text: `Code ${n} of ${qr.max_refs ?? '?'} — refreshes every ${secs} s` }),
      S.mode === 'sim' ? h('button', { class: 'btn primary', 'data-testid': 'sim-scan', onclick: simScan,
        text: 'Scan with the simulated phone' }) : null,
    ];
  }
  if (state === 'stopped') {
    const expired = detail === 'ref_limit';
    const msg = expired ? 'The QR code expired. Click to reload'
      : detail === 'logged_out' ? 'You are logged out. Click to get a new QR code' : `Stopped (${detail || 'unknown'}). Click to reload`;
    return [h('div', { class: 'qr-frame placeholder expired' },
      h('button', { class: 'qr-reload', 'data-testid': 'qr-reload', onclick: () => cmd({ cmd: 'restart' }) },
        h('span', { class: 'reload-icon', 'aria-hidden': 'true', text: '⟳' }), h('span', { text: msg })))];
  }
  if (state === 'disconnected') return spinner(`Connection lost, reconnecting…${detail ? ` (${detail})` : ''}`);
  if (state === 'logged_in') return spinner('Logged in');
  return spinner('Connecting…');
}

async function simScan() {
  const code = document.querySelector('[data-testid="qr"]')?.dataset.qr;
  if (!code) return;
  try {
    await postJSON('/api/sim/scan', { qr: code });
  } catch (e) {
    toast(`scan: ${e.message}`, 'error');
  }
}

// ---------------------------------------------------------------- chat list

let chatsQueued = false;
function scheduleChats() {
  if (chatsQueued) return;
  chatsQueued = true;
  requestAnimationFrame(() => { chatsQueued = false; renderChats(); });
}

function sortChats(list) {
  const pin = (c) => (c.pinned ? (typeof c.pinned === 'number' ? c.pinned : 1) : 0);
  return list.sort((a, b) => (pin(b) - pin(a)) || ((b.t || 0) - (a.t || 0)) || a.jid.localeCompare(b.jid));
}

function renderChats() {
  const q = el.search.value.trim().toLowerCase();
  const all = [...S.chats.values()];
  const hit = (jid, name) => !q || jid.toLowerCase().includes(q) || String(name || '').toLowerCase().includes(q);
  const nodes = [];
  const archived = all.filter((c) => c.archived);
  if (q) {
    const chats = sortChats(all.filter((c) => hit(c.jid, c.name || S.contacts[c.jid])));
    if (chats.length) nodes.push(h('div', { class: 'list-label', text: 'Chats' }), chats.map(chatItem));
    const people = Object.entries(S.contacts).filter(([jid, name]) => !S.chats.has(jid) && hit(jid, name))
      .sort((a, b) => String(a[1]).localeCompare(String(b[1])));
    if (people.length) {
      nodes.push(h('div', { class: 'list-label', text: 'Contacts' }), people.map(([jid, name]) =>
        h('div', { class: 'chat-item', 'data-testid': 'contact-item', 'data-jid': jid, role: 'button', tabindex: 0,
          onclick: () => openChat(jid) },
        avatar(jid, name),
        h('div', { class: 'ci-main' }, h('div', { class: 'ci-top' }, h('span', { class: 'ci-name', text: name || jid })),
          h('div', { class: 'ci-bottom' }, h('span', { class: 'ci-preview', text: jid.replace(/@.*/, '') }))))));
    }
    if (!chats.length && !people.length) nodes.push(h('div', { class: 'list-empty', text: 'No chats, contacts or messages found' }));
  } else if (S.archivedView) {
    nodes.push(h('div', { class: 'archived-entry open', 'data-testid': 'archived-toggle', role: 'button', tabindex: 0,
      onclick: () => { S.archivedView = false; renderChats(); } }, h('span', { class: 'arch-back', text: '←' }), ' Archived'));
    const chats = sortChats(archived);
    nodes.push(chats.length ? chats.map(chatItem) : h('div', { class: 'list-empty', text: 'No archived chats' }));
  } else {
    if (archived.length) {
      nodes.push(h('div', { class: 'archived-entry', 'data-testid': 'archived-toggle', role: 'button', tabindex: 0,
        onclick: () => { S.archivedView = true; renderChats(); } },
      h('span', { class: 'arch-icon', 'aria-hidden': 'true', text: '▤' }), h('span', { class: 'arch-label', text: 'Archived' }),
      h('span', { class: 'arch-count', text: String(archived.length) })));
    }
    const chats = sortChats(all.filter((c) => !c.archived));
    nodes.push(chats.length ? chats.map(chatItem) : h('div', { class: 'list-empty', text: S.auth.state === 'logged_in' ? 'No chats yet' : '' }));
  }
  const unread = all.filter((c) => c.unread && !c.muted && !c.archived && c.jid !== S.open).length;
  document.title = unread ? `(${unread}) waweb` : 'waweb';
  const scroll = el.list.scrollTop;
  el.list.replaceChildren(...nodes.flat());
  el.list.scrollTop = scroll;
}

function chatItem(c) {
  const name = c.name || S.contacts[c.jid] || c.jid.replace(/@.*/, '');
  const last = c.last;
  const unread = c.unread && c.jid !== S.open ? c.unread : 0;
  return h('div', {
    class: `chat-item${c.jid === S.open ? ' active' : ''}${unread ? ' has-unread' : ''}`, 'data-testid': 'chat-item',
    'data-jid': c.jid, role: 'button', tabindex: 0, onclick: () => openChat(c.jid),
    onkeydown: (e) => { if (e.key === 'Enter') openChat(c.jid); },
  },
  avatar(c.jid, name),
  h('div', { class: 'ci-main' },
    h('div', { class: 'ci-top' },
      h('span', { class: 'ci-name', text: name }),
      h('span', { class: 'ci-time', text: listTime(last?.t || c.t) })),
    h('div', { class: 'ci-bottom' },
      activity(c.jid) ? h('span', { class: 'ci-preview typing', text: activity(c.jid) })
        : h('span', { class: 'ci-preview' }, last?.from_me ? ticks(last.status) : null, h('span', { text: last?.text || '' })),
      h('span', { class: 'ci-icons' },
        c.muted ? h('span', { class: 'ci-muted', title: 'Muted', 'data-testid': 'muted' },
          svg('svg', { viewBox: '0 0 16 16', width: 15, height: 15, 'aria-hidden': 'true' },
            svg('path', { d: 'M2 6h2.5L8 3v10l-3.5-3H2z', fill: 'currentColor' }),
            svg('path', { d: 'M10.5 6l4 4m0-4l-4 4', stroke: 'currentColor', 'stroke-width': 1.5, fill: 'none' }))) : null,
        c.pinned ? h('span', { class: 'ci-pin', title: 'Pinned', 'data-testid': 'pinned' },
          svg('svg', { viewBox: '0 0 16 16', width: 14, height: 14, 'aria-hidden': 'true' },
            svg('path', { d: 'M9.5 1.5l5 5-2 .5-2.5 2.5.5 3.5-1.5 1.5-3-3-4 4H1.5V14l4-4-3-3L4 5.5l3.5.5L10 3.5z', fill: 'currentColor' }))) : null,
        unread ? h('span', { class: 'badge', 'data-testid': 'unread', text: String(unread) }) : null))));
}

function renderBattery() {
  const b = S.battery;
  const low = b && typeof b.value === 'number' && b.value <= 20 && !b.charging;
  el.battery.hidden = !low;
  if (low) el.battery.querySelector('.bat-text').textContent = `Phone battery low (${b.value}%). Charge your phone to stay connected.`;
}

// ---------------------------------------------------------------- conversation

let openSeq = 0;
const bubbles = new Map(); // id -> bubble element

const phoneWidth = () => matchMedia('(max-width: 600px)').matches;

function openChat(jid) {
  // At phone width the conversation is a screen of its own: the browser's back button leaves it.
  if (phoneWidth() && !document.body.classList.contains('conv-open')) history.pushState({ wawebChat: true }, '');
  if (S.open !== jid) {
    stopTyping();
    S.open = jid;
    S.msgs = new Map();
    bubbles.clear();
    el.msgList.replaceChildren();
    setReply(null);
    el.composer.value = '';
  }
  el.conv.hidden = false;
  el.conv.dataset.jid = jid;
  el.convEmpty.hidden = true;
  document.body.classList.add('conv-open');
  renderConvHead();
  scheduleChats();
  loadMessages(jid);
  if (!phoneWidth()) el.composer.focus();
}

/** The header's back button: through the history entry when opening the chat made one. */
function leaveChat() {
  if (history.state?.wawebChat) history.back(); else closeChat();
}

function closeChat() {
  stopTyping();
  S.open = null;
  S.msgs = new Map();
  bubbles.clear();
  el.msgList.replaceChildren();
  el.conv.hidden = true;
  delete el.conv.dataset.jid;
  el.convEmpty.hidden = false;
  document.body.classList.remove('conv-open');
  setReply(null);
  scheduleChats();
}

async function loadMessages(jid) {
  const seq = ++openSeq;
  let body;
  try {
    const r = await fetch(api('/api/messages', { chat: jid }));
    if (r.status === 401) { authError(); return; }
    body = await r.json();
  } catch (e) {
    toast(`Could not load messages: ${e.message}`, 'error');
    return;
  }
  if (seq !== openSeq || S.open !== jid) return;
  const live = S.msgs;
  S.msgs = new Map((body.messages || []).map((m) => [m.id, m]));
  for (const [id, m] of live) S.msgs.set(id, m); // events that arrived meanwhile are newer
  renderMessages();
  markRead();
}

function markRead() {
  if (!S.open) return;
  const c = S.chats.get(S.open);
  if (c) { c.unread = 0; scheduleChats(); }
  cmd({ cmd: 'read', chat: S.open });
}

let readTimer = null;
function onMessage(m) {
  // The chat list preview follows the newest message.
  let c = S.chats.get(m.chat);
  if (!c) {
    c = { jid: m.chat, name: S.contacts[m.chat] || null, is_group: m.chat.endsWith('@g.us'), unread: 0, t: m.t,
      pinned: false, archived: false, muted: false, last: null };
    S.chats.set(m.chat, c);
  }
  if (!c.last || (m.t || 0) >= (c.last.t || 0)) {
    c.last = { text: preview(m), from_me: m.from_me, status: m.status, t: m.t };
    c.t = Math.max(c.t || 0, m.t || 0);
  }
  scheduleChats();
  if (m.chat !== S.open) return;
  const isNew = !S.msgs.has(m.id);
  S.msgs.set(m.id, m);
  upsertBubble(m);
  if (isNew && !m.from_me && document.visibilityState === 'visible') {
    clearTimeout(readTimer);
    readTimer = setTimeout(markRead, 300);
  }
}

function sortedMsgs() {
  return [...S.msgs.values()].sort((a, b) => (a.t || 0) - (b.t || 0));
}

function nearBottom() {
  const l = el.msgList;
  return l.scrollHeight - l.scrollTop - l.clientHeight < 120;
}

function scrollBottom() {
  el.msgList.scrollTop = el.msgList.scrollHeight;
}

function renderMessages() {
  bubbles.clear();
  const frag = document.createDocumentFragment();
  let day = null;
  for (const m of sortedMsgs()) {
    const d = when(m.t);
    if (dayKey(d) !== day) { day = dayKey(d); frag.append(daySep(d)); }
    frag.append(bubbleRow(m));
  }
  el.msgList.replaceChildren(frag);
  scrollBottom();
}

function daySep(d) {
  return h('div', { class: 'day-sep', 'data-testid': 'day', 'data-day': dayKey(d) }, h('span', { text: dayLabel(d) }));
}

/** What must match for a status change to update a bubble in place instead of redrawing it. */
const shape = (m) => JSON.stringify([m.kind, m.text, m.media?.url, m.quoted?.id, m.location, m.contact]);

function upsertBubble(m) {
  const old = bubbles.get(m.id);
  const stick = nearBottom() || (m.from_me && !old);
  if (old) {
    if (old.dataset.shape === shape(m)) {
      old.dataset.status = m.status;
      const t = old.querySelector('[data-testid="ticks"]');
      if (t && m.from_me) t.replaceWith(ticks(m.status));
    } else {
      old.closest('.msg-row').replaceWith(bubbleRow(m));
    }
  } else {
    const list = sortedMsgs();
    const last = list[list.length - 1];
    if (last && last.id !== m.id && (last.t || 0) > (m.t || 0)) {
      renderMessages(); // arrived out of order: redraw everything
      return;
    }
    const d = when(m.t);
    const seps = el.msgList.querySelectorAll('.day-sep');
    if (!seps.length || seps[seps.length - 1].dataset.day !== dayKey(d)) el.msgList.append(daySep(d));
    el.msgList.append(bubbleRow(m));
  }
  if (stick) scrollBottom();
}

function bubbleRow(m) {
  const group = m.chat.endsWith('@g.us');
  const b = h('div', {
    class: `bubble kind-${m.kind}`, 'data-testid': 'message', 'data-id': m.id, 'data-status': m.status || '',
    'data-shape': shape(m), id: `msg-${m.id}`,
  },
  group && !m.from_me ? h('div', { class: 'sender', style: `color:${nameColour(m.sender || '')}`, 'data-testid': 'sender',
    text: m.sender_name || (m.sender || '').replace(/@.*/, '') }) : null,
  m.quoted ? quoteBlock(m.quoted) : null,
  body(m),
  h('span', { class: 'meta' }, h('span', { class: 'time', text: hhmm(when(m.t)) }), m.from_me ? ticks(m.status) : null),
  h('button', { class: 'reply-btn', 'data-testid': 'reply', title: 'Reply', 'aria-label': 'Reply', onclick: (e) => { e.stopPropagation(); setReply(m); } },
    svg('svg', { viewBox: '0 0 16 16', width: 16, height: 16, 'aria-hidden': 'true' },
      svg('path', { d: 'M6.5 3.5L2 8l4.5 4.5V9.8c3.7 0 6 1 7.5 3.7-.6-3.9-2.9-6.8-7.5-7.3z', fill: 'currentColor' }))));
  bubbles.set(m.id, b);
  // Long press (touch) or right click answers too.
  let press = null;
  b.addEventListener('touchstart', () => { press = setTimeout(() => setReply(m), 550); }, { passive: true });
  for (const ev of ['touchend', 'touchmove', 'touchcancel']) b.addEventListener(ev, () => clearTimeout(press), { passive: true });
  b.addEventListener('contextmenu', (e) => {
    if (phoneWidth()) { e.preventDefault(); setReply(m); }
  });
  return h('div', { class: `msg-row ${m.from_me ? 'out' : 'in'}` }, b);
}

function quoteBlock(q) {
  return h('div', { class: 'quote', 'data-testid': 'quote', role: 'button', tabindex: 0, title: 'Go to the quoted message',
    onclick: () => jumpTo(q.id) },
  h('div', { class: 'quote-name', text: q.sender_name || 'You' }),
  h('div', { class: 'quote-text', text: q.text || '' }));
}

function jumpTo(id) {
  const b = bubbles.get(id);
  if (!b) { toast('The quoted message is not loaded'); return; }
  b.scrollIntoView({ block: 'center', behavior: 'smooth' });
  b.classList.remove('flash');
  void b.offsetWidth;
  b.classList.add('flash');
}

function caption(m) {
  return m.text ? h('div', { class: 'text caption', text: m.text }) : null;
}

function body(m) {
  const url = withToken(m.media?.url);
  switch (m.kind) {
    case 'text':
      return h('div', { class: 'text', text: m.text || '' });
    case 'image':
    case 'sticker':
      return [h('img', { class: m.kind === 'sticker' ? 'sticker' : 'photo', src: url || '', loading: 'lazy',
        alt: m.kind === 'sticker' ? 'Sticker' : (m.text || 'Photo'), onclick: () => openLightbox(url, m.text) }), caption(m)];
    case 'video':
      return [h('video', { class: 'video', src: url || '', controls: true, preload: 'metadata' }), caption(m)];
    case 'audio':
      return h('audio', { src: url || '', controls: true, preload: 'metadata' });
    case 'document': {
      const name = m.media?.file_name || 'document';
      return [h('div', { class: 'doc' },
        h('div', { class: 'doc-icon', 'aria-hidden': 'true', text: (name.split('.').pop() || 'doc').slice(0, 4).toUpperCase() }),
        h('div', { class: 'doc-main' }, h('div', { class: 'doc-name', text: name }),
          h('div', { class: 'doc-size', text: [bytes(m.media?.size), m.media?.mimetype].filter(Boolean).join(' · ') })),
        url ? h('a', { class: 'doc-dl', href: `${url}&download=1`, download: name, title: 'Download', 'data-testid': 'download', text: '⤓' }) : null),
      m.text && m.text !== name ? caption(m) : null];
    }
    case 'location': {
      const l = m.location || {};
      const href = `https://www.openstreetmap.org/?mlat=${encodeURIComponent(l.lat)}&mlon=${encodeURIComponent(l.lng)}#map=16/${encodeURIComponent(l.lat)}/${encodeURIComponent(l.lng)}`;
      return h('div', { class: 'loc' },
        h('a', { href, target: '_blank', rel: 'noopener noreferrer', text: `📍 ${l.lat}, ${l.lng}` }),
        l.name ? h('div', { class: 'loc-name', text: l.name }) : null);
    }
    case 'contact':
      return h('div', { class: 'vcard' }, avatar(m.contact?.display_name || '', m.contact?.display_name || '?'),
        h('span', { class: 'vcard-name', text: m.contact?.display_name || 'Contact' }));
    default:
      return h('div', { class: 'text unsupported', text: '[unsupported message]' });
  }
}

function renderConvHead() {
  const jid = S.open;
  if (!jid) return;
  const name = chatName(jid);
  el.convHead.replaceChildren(
    h('button', { class: 'icon-btn back', 'data-testid': 'back', title: 'Back', 'aria-label': 'Back to the chat list',
      onclick: leaveChat, text: '←' }),
    avatar(jid, name),
    h('div', { class: 'conv-title' }, h('div', { class: 'conv-name', 'data-testid': 'conv-name', text: name }),
      h('div', { class: 'conv-presence', 'data-testid': 'presence' })));
  renderPresence();
}

/** A "typing…" or "recording audio…" mark goes after this long without news (as if "paused"). */
const ACTIVITY_MS = 10000;

/**
 * Folds one presence update into `S.presence[jid]` = `{state, t, act, at, who}`: `state` is the
 * lasting one (`available` or `unavailable`, with `t` the last-seen time in Unix seconds), `act`
 * the passing one (`composing` or `recording`, since `at`, by `who` in a group); `paused` ends it.
 */
function applyPresence(jid, presence, t, participant) {
  const p = S.presence[jid] || (S.presence[jid] = { state: null, t: null, act: null, at: 0, who: null });
  switch (presence) {
    case 'available':
      p.state = 'available';
      p.act = null;
      break;
    case 'unavailable':
      p.state = 'unavailable';
      if (typeof t === 'number' && t > 0) p.t = t;
      p.act = null;
      break;
    case 'composing':
    case 'recording': {
      p.act = presence;
      p.who = participant || null;
      const at = Date.now();
      p.at = at;
      setTimeout(() => {
        if (S.presence[jid] !== p || p.at !== at || !p.act) return;
        p.act = null;
        if (jid === S.open) renderPresence();
        scheduleChats();
      }, ACTIVITY_MS + 50);
      break;
    }
    case 'paused':
      p.act = null;
      break;
    default:
      break;
  }
}

/** "typing…" or "recording audio…" (in a group "Alice is typing…") while a contact does so, else ''. */
function activity(jid) {
  const p = S.presence[jid];
  if (!p?.act || Date.now() - p.at >= ACTIVITY_MS) return '';
  const what = p.act === 'recording' ? 'recording audio…' : 'typing…';
  if (!p.who || p.who === jid) return what;
  const who = S.contacts[p.who] || p.who.replace(/@.*/, '');
  return `${who.split(' ')[0]} is ${what}`;
}

/** "last seen today at 14:05", "last seen yesterday at 09:30" or "last seen 03/11/2026". */
function lastSeen(t) {
  const d = when(t);
  const now = new Date();
  if (dayKey(d) === dayKey(now)) return `last seen today at ${hhmm(d)}`;
  const y = new Date(now); y.setDate(now.getDate() - 1);
  if (dayKey(d) === dayKey(y)) return `last seen yesterday at ${hhmm(d)}`;
  return `last seen ${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()}`;
}

/** The conversation header's second line: what the contact does now, else online or last seen. */
function presenceLine(jid) {
  const busy = activity(jid);
  if (busy) return busy;
  const p = S.presence[jid];
  if (p?.state === 'available') return 'online';
  if (p?.state === 'unavailable' && p.t) return lastSeen(p.t);
  return '';
}

function renderPresence() {
  const line = el.convHead.querySelector('[data-testid="presence"]');
  if (!line || !S.open) return;
  const text = presenceLine(S.open);
  line.textContent = text;
  line.dataset.presence = activity(S.open) ? S.presence[S.open].act : (S.presence[S.open]?.state || '');
  line.classList.toggle('typing', text.endsWith('…'));
}

// ---------------------------------------------------------------- composer

function setReply(m) {
  S.reply = m;
  el.replyBox.hidden = !m;
  if (!m) { el.replyBox.replaceChildren(); return; }
  el.replyBox.replaceChildren(
    h('div', { class: 'quote' }, h('div', { class: 'quote-name', text: m.from_me ? 'You' : (m.sender_name || chatName(m.chat)) }),
      h('div', { class: 'quote-text', text: preview(m) })),
    h('button', { class: 'icon-btn', 'data-testid': 'reply-cancel', title: 'Cancel reply', 'aria-label': 'Cancel reply',
      onclick: () => setReply(null), text: '×' }));
  el.composer.focus();
}

let lastComposing = 0;
let idleTimer = null;
function onTyping() {
  if (!S.open) return;
  const now = Date.now();
  if (el.composer.value && now - lastComposing > 2500) {
    lastComposing = now;
    cmd({ cmd: 'typing', chat: S.open, state: 'composing' });
  }
  clearTimeout(idleTimer);
  idleTimer = setTimeout(stopTyping, 3000);
}

function stopTyping() {
  clearTimeout(idleTimer);
  if (lastComposing && S.open) cmd({ cmd: 'typing', chat: S.open, state: 'paused' });
  lastComposing = 0;
}

async function sendText() {
  const text = el.composer.value.replace(/^\s+|\s+$/g, '');
  if (!text || !S.open) return;
  const chat = S.open;
  const quote = S.reply?.id ?? null;
  el.composer.value = '';
  autosize();
  setReply(null);
  stopTyping();
  const r = await cmd({ cmd: 'send_text', chat, text, quote });
  if (!r) el.composer.value ||= text; // give the text back when sending failed
}

function autosize() {
  el.composer.style.height = 'auto';
  el.composer.style.height = `${Math.min(el.composer.scrollHeight, 120)}px`;
}

// ---------------------------------------------------------------- uploads

const uploads = []; // {key, chat, name, upload, bar, label, node, done, xhrDone}

function uploadFile(file) {
  if (!S.open) return;
  const u = { chat: S.open, name: file.name, upload: null, xhrDone: false, done: false };
  u.bar = h('progress', { max: 100, value: 0 });
  u.label = h('span', { class: 'up-label', text: `${file.name}: uploading to the server…` });
  u.node = h('div', { class: 'upload', 'data-testid': 'upload-progress' }, u.label, u.bar);
  el.uploads.append(u.node);
  uploads.push(u);
  const xhr = new XMLHttpRequest();
  const captionText = el.composer.value.trim();
  xhr.open('POST', api('/api/upload', { chat: u.chat, name: file.name, caption: captionText || null, quote: S.reply?.id ?? null }));
  xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
  xhr.upload.onprogress = (e) => {
    if (!e.lengthComputable) return;
    u.bar.max = e.total;
    u.bar.value = e.loaded;
    u.label.textContent = `${file.name}: to the server ${Math.round((100 * e.loaded) / e.total)}%`;
  };
  xhr.onload = () => {
    u.xhrDone = true;
    let out = null;
    try { out = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
    if (xhr.status === 401) { authError(); return; }
    if (xhr.status >= 300 || !out || out.ok === false) {
      finishUpload(u, out?.error || `HTTP ${xhr.status}`);
      return;
    }
    if (out.upload !== undefined) u.upload = out.upload;
    if (!u.done) {
      u.label.textContent = `${file.name}: sending to WhatsApp…`;
      // The upload events may all have come before this answer; don't wait for ever.
      u.fallback = setTimeout(() => finishUpload(u, null), 15000);
    } else {
      finishUpload(u, null);
    }
  };
  xhr.onerror = () => { u.xhrDone = true; finishUpload(u, 'network error'); };
  if (captionText) { el.composer.value = ''; autosize(); }
  setReply(null);
  xhr.send(file);
}

function onUploadEvent(ev) {
  let u = uploads.find((x) => x.upload !== null && x.upload === ev.upload);
  if (!u) u = uploads.find((x) => x.upload === null && x.chat === ev.chat && x.name === ev.name);
  if (!u) return;
  if (u.upload === null && ev.upload !== undefined) u.upload = ev.upload;
  if (ev.total) { u.bar.max = ev.total; u.bar.value = ev.sent || 0; }
  u.label.textContent = `${u.name}: to WhatsApp ${ev.total ? Math.round((100 * (ev.sent || 0)) / ev.total) : 0}%`;
  if (ev.error) finishUpload(u, ev.error);
  else if (ev.done) { u.done = true; if (u.xhrDone) finishUpload(u, null); }
}

function finishUpload(u, error) {
  clearTimeout(u.fallback);
  const i = uploads.indexOf(u);
  if (i >= 0) uploads.splice(i, 1);
  u.node.remove();
  if (error) toast(`Upload of ${u.name} failed: ${error}`, 'error');
}

// ---------------------------------------------------------------- lightbox, menu, inspector, simulator

function openLightbox(url, text) {
  if (!url) return;
  el.lightbox.replaceChildren(
    h('button', { class: 'icon-btn lb-close', title: 'Close', 'aria-label': 'Close', 'data-testid': 'lightbox-close', text: '×' }),
    h('img', { src: url, alt: text || 'Photo' }),
    text ? h('div', { class: 'lb-caption', text }) : null);
  el.lightbox.hidden = false;
}

function showInspector(on) {
  document.body.classList.toggle('inspecting', on);
  el.inspector.hidden = !on;
  inspector.show(on);
  for (const b of document.querySelectorAll('[data-inspector-toggle]')) b.setAttribute('aria-pressed', String(on));
}

function renderSim() {
  const sim = S.mode === 'sim';
  el.simToggle.hidden = !sim;
  if (!sim) { el.sim.hidden = true; return; }
  const sel = el.sim.querySelector('[data-testid="sim-from"]');
  const keep = sel.value;
  const people = Object.entries(S.contacts).filter(([jid]) => !jid.endsWith('@g.us'));
  sel.replaceChildren(...people.map(([jid, name]) => h('option', { value: jid, text: `${name || jid} (${jid.replace(/@.*/, '')})` })));
  if (keep && people.some(([jid]) => jid === keep)) sel.value = keep;
  else if (S.open && people.some(([jid]) => jid === S.open)) sel.value = S.open;
}

async function simPost(path, body) {
  try {
    await postJSON(path, body);
  } catch (e) {
    toast(`simulator: ${e.message}`, 'error');
  }
}

function wire() {
  el.search.addEventListener('input', renderChats);
  el.composer.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendText(); }
  });
  el.composer.addEventListener('input', () => { autosize(); onTyping(); });
  el.send.addEventListener('click', sendText);
  el.attach.addEventListener('click', () => el.file.click());
  el.file.addEventListener('change', () => {
    for (const f of el.file.files) uploadFile(f);
    el.file.value = '';
  });
  el.menu.addEventListener('click', (e) => { e.stopPropagation(); el.menuPop.hidden = !el.menuPop.hidden; });
  document.addEventListener('click', (e) => { if (!e.target.closest('#menu-pop')) el.menuPop.hidden = true; });
  $('logout').addEventListener('click', () => {
    el.menuPop.hidden = true;
    cmd({ cmd: 'logout' }); // the server shows a fresh QR afterwards
  });
  for (const b of document.querySelectorAll('[data-inspector-toggle]')) {
    b.addEventListener('click', () => { el.menuPop.hidden = true; showInspector(el.inspector.hidden); });
  }
  el.simToggle.addEventListener('click', () => { el.menuPop.hidden = true; el.sim.hidden = !el.sim.hidden; renderSim(); });
  $('sim-close').addEventListener('click', () => { el.sim.hidden = true; });
  const from = () => el.sim.querySelector('[data-testid="sim-from"]').value;
  const simText = el.sim.querySelector('[data-testid="sim-text"]');
  $('sim-send').addEventListener('click', () => {
    if (!from()) return;
    simPost('/api/sim/message', { from: from(), text: simText.value || 'Hello from the simulated phone' });
    simText.value = '';
  });
  $('sim-image').addEventListener('click', () => {
    if (from()) simPost('/api/sim/image', { from: from(), caption: simText.value || '' });
    simText.value = '';
  });
  $('sim-typing').addEventListener('click', () => { if (from()) simPost('/api/sim/presence', { from: from(), presence: 'composing' }); });
  el.lightbox.addEventListener('click', () => { el.lightbox.hidden = true; el.lightbox.replaceChildren(); });
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    if (!el.lightbox.hidden) { el.lightbox.hidden = true; el.lightbox.replaceChildren(); } else if (S.reply) setReply(null);
    else if (!el.menuPop.hidden) el.menuPop.hidden = true;
  });
  $('login-inspector').addEventListener('click', () => showInspector(el.inspector.hidden));
  window.addEventListener('popstate', () => { if (S.open) closeChat(); });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && S.open && S.chats.get(S.open)?.unread) markRead();
  });
}

wire();
renderAuth();
renderChats();
connect();
