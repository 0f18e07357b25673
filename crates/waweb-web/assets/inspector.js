// The protocol inspector: every frame the client sent or received, newest at the bottom, with
// filters, a pause switch, expandable decoded details and an export of the session capture.

import { h, jsonTree, nodeTree } from './tree.js';

const KEEP_FRAMES = 5000; // frames kept in memory (the server retains as many)
const DOM_ROWS = 2000; // rows kept in the document

function clock(ms) {
  const d = new Date(ms);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function size(n) {
  if (typeof n !== 'number') return '';
  if (n < 1024) return `${n} B`;
  return `${(n / 1024).toFixed(1)} KiB`;
}

/** A frame's `json` may arrive parsed or as its text; the tree wants it parsed. */
function parsedJson(f) {
  if (typeof f.json !== 'string') return f.json;
  try { return JSON.parse(f.json); } catch { return f.json; }
}

export class Inspector {
  /** `api(path, query)` builds a tokened URL; `onClose` runs when the panel's × is clicked. */
  constructor(root, api, onClose) {
    this.root = root;
    this.api = api;
    this.frames = new Map(); // seq -> frame
    this.rows = new Map(); // seq -> row element
    this.loaded = false;
    this.loading = null;
    this.paused = false;
    this.held = [];
    this.visible = false;
    this.build(onClose);
  }

  build(onClose) {
    const opt = (v, label) => h('option', { value: v, text: label });
    this.dirSel = h('select', { 'data-testid': 'filter-dir', title: 'Direction', onchange: () => this.refilter() },
      opt('all', 'in + out'), opt('in', '↓ in'), opt('out', '↑ out'));
    this.kindSel = h('select', { 'data-testid': 'filter-kind', title: 'Kind', onchange: () => this.refilter() },
      opt('all', 'all kinds'), opt('json', 'json'), opt('node', 'node'), opt('text', 'text'), opt('error', 'error'));
    this.textIn = h('input', { type: 'search', placeholder: 'Filter: tag, summary, content…', 'data-testid': 'filter-text',
      oninput: () => this.refilter() });
    this.pauseBox = h('input', { type: 'checkbox', 'data-testid': 'pause', onchange: () => this.setPaused(this.pauseBox.checked) });
    this.followBox = h('input', { type: 'checkbox', 'data-testid': 'autoscroll', checked: true });
    this.secretsBox = h('input', { type: 'checkbox', 'data-testid': 'export-secrets' });
    this.count = h('span', { class: 'insp-count', 'data-testid': 'frame-count' });
    this.list = h('div', { class: 'insp-list', role: 'list' });
    this.list.addEventListener('click', (e) => {
      const row = e.target.closest('[data-testid="frame"]');
      if (row && !e.target.closest('.frame-details')) this.toggle(row);
    });
    this.root.replaceChildren(
      h('header', { class: 'insp-head' },
        h('div', { class: 'insp-title' }, h('strong', { text: 'Protocol inspector' }), this.count),
        h('button', { class: 'icon-btn', title: 'Close inspector', 'aria-label': 'Close inspector', 'data-testid': 'inspector-close',
          onclick: onClose, text: '×' })),
      h('div', { class: 'insp-tools' },
        this.dirSel, this.kindSel, this.textIn,
        h('label', { class: 'insp-check' }, this.pauseBox, 'pause'),
        h('label', { class: 'insp-check' }, this.followBox, 'follow'),
        h('span', { class: 'insp-export' },
          h('button', { class: 'btn small', 'data-testid': 'export', onclick: () => this.exportCapture(), text: 'Export' }),
          h('label', { class: 'insp-check', title: 'Keep keys and tokens in the exported capture' }, this.secretsBox, 'include secrets'))),
      this.list);
  }

  show(on) {
    this.visible = on;
    if (on && !this.loaded) this.load();
    if (on) this.scrollEnd();
  }

  /** Fetches the retained frames; called on first open and after every snapshot once loaded. */
  async load() {
    if (this.loading) return this.loading;
    this.loading = (async () => {
      try {
        const r = await fetch(this.api('/api/frames'));
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        const body = await r.json();
        for (const f of body.frames || []) this.frames.set(f.seq, f);
        this.loaded = true;
        this.trim();
        this.renderAll();
      } catch (e) {
        this.count.textContent = `could not load frames (${e.message})`;
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  onSnapshot() {
    if (this.loaded) this.load();
  }

  add(f) {
    if (!f || typeof f.seq !== 'number') return;
    const known = this.frames.has(f.seq);
    this.frames.set(f.seq, f);
    this.trim();
    if (!this.loaded) return; // drawn with the rest once the panel opens
    if (this.paused) { this.held.push(f.seq); this.updateCount(); return; }
    if (known && this.rows.has(f.seq)) return;
    this.appendRow(f);
    this.capRows();
    this.updateCount();
    this.scrollEnd();
  }

  trim() {
    if (this.frames.size <= KEEP_FRAMES) return;
    const seqs = [...this.frames.keys()].sort((a, b) => a - b);
    for (const s of seqs.slice(0, seqs.length - KEEP_FRAMES)) this.frames.delete(s);
  }

  setPaused(on) {
    this.paused = on;
    if (!on) {
      const seqs = this.held.splice(0);
      for (const s of seqs) {
        const f = this.frames.get(s);
        if (f && !this.rows.has(s)) this.appendRow(f);
      }
      this.capRows();
      this.updateCount();
      this.scrollEnd();
    }
  }

  renderAll() {
    this.rows.clear();
    this.list.replaceChildren();
    const seqs = [...this.frames.keys()].sort((a, b) => a - b).slice(-DOM_ROWS);
    const frag = document.createDocumentFragment();
    for (const s of seqs) frag.append(this.makeRow(this.frames.get(s)));
    this.list.append(frag);
    this.held = [];
    this.updateCount();
    this.scrollEnd(true);
  }

  hay(f) {
    if (f._hay === undefined) {
      let body = '';
      try { body = JSON.stringify(f.json ?? f.node ?? null) || ''; } catch { /* keep empty */ }
      f._hay = [f.tag, f.summary, body, f.text, f.error].filter((x) => x).join('\n').toLowerCase();
    }
    return f._hay;
  }

  matches(f) {
    const dir = this.dirSel.value;
    const kind = this.kindSel.value;
    const text = this.textIn.value.trim().toLowerCase();
    if (dir !== 'all' && f.dir !== dir) return false;
    if (kind !== 'all' && f.kind !== kind) return false;
    return !text || this.hay(f).includes(text);
  }

  makeRow(f) {
    const out = f.dir === 'out';
    const row = h('div', {
      class: `frame ${out ? 'out' : 'in'} kind-${f.kind}`, 'data-testid': 'frame', role: 'listitem',
      'data-dir': f.dir, 'data-kind': f.kind, 'data-seq': String(f.seq), title: 'Click for details',
    },
    h('span', { class: 'f-dir', text: out ? '↑' : '↓' }),
    h('span', { class: 'f-time', text: clock(f.t_ms) }),
    h('span', { class: 'f-tag', text: f.tag || '' }),
    h('span', { class: 'f-kind', text: f.kind }),
    h('span', { class: 'f-size', text: size(f.size) }),
    h('span', { class: 'f-sum', text: f.summary || '' }));
    row.hidden = !this.matches(f);
    this.rows.set(f.seq, row);
    return row;
  }

  appendRow(f) {
    this.list.append(this.makeRow(f));
  }

  capRows() {
    while (this.rows.size > DOM_ROWS) {
      const first = this.rows.keys().next().value;
      const row = this.rows.get(first);
      this.rows.delete(first);
      if (row.nextElementSibling?.classList.contains('frame-details')) row.nextElementSibling.remove();
      row.remove();
    }
  }

  refilter() {
    for (const [seq, row] of this.rows) {
      const f = this.frames.get(seq);
      const show = f ? this.matches(f) : false;
      row.hidden = !show;
      const det = row.nextElementSibling;
      if (det?.classList.contains('frame-details')) det.hidden = !show;
    }
    this.updateCount();
  }

  updateCount() {
    let shown = 0;
    for (const row of this.rows.values()) if (!row.hidden) shown++;
    const held = this.held.length ? `, ${this.held.length} held (paused)` : '';
    this.count.textContent = `${shown} of ${this.frames.size} frames${held}`;
  }

  toggle(row) {
    const next = row.nextElementSibling;
    if (next?.classList.contains('frame-details')) {
      next.remove();
      row.classList.remove('open');
      return;
    }
    const f = this.frames.get(Number(row.dataset.seq));
    if (!f) return;
    row.classList.add('open');
    row.after(this.details(f));
  }

  details(f) {
    const facts = [
      ['seq', f.seq], ['direction', f.dir], ['tag', f.tag], ['kind', f.kind], ['size', size(f.size)],
      ['metric', f.metric], ['flags', f.flags], ['redacted', f.redacted ? 'yes' : null],
    ].filter(([, v]) => v !== null && v !== undefined && v !== '');
    let body;
    if (f.kind === 'node' && f.node !== undefined && f.node !== null) body = nodeTree(f.node);
    else if (f.json !== undefined && f.json !== null) body = jsonTree(parsedJson(f), 3);
    else if (f.error) body = h('pre', { class: 'f-error', text: String(f.error) });
    else if (f.text !== undefined && f.text !== null) body = h('pre', { class: 'f-text', text: String(f.text) });
    else body = h('div', { class: 'tv-meta', text: '(no content)' });
    return h('div', { class: 'frame-details', 'data-testid': 'frame-details' },
      h('div', { class: 'fd-facts' }, facts.map(([k, v]) => h('span', null, h('b', { text: k }), ' ', String(v)))),
      f.error && f.kind !== 'error' ? h('pre', { class: 'f-error', text: String(f.error) }) : null,
      h('div', { class: 'fd-body' }, body));
  }

  scrollEnd(force = false) {
    if (!this.visible) return;
    if (force || this.followBox.checked) this.list.scrollTop = this.list.scrollHeight;
  }

  exportCapture() {
    const a = h('a', { href: this.api('/api/capture', this.secretsBox.checked ? { secrets: '1' } : {}), download: 'waweb-capture.json' });
    document.body.append(a);
    a.click();
    a.remove();
  }
}
