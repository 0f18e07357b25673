// Small DOM helpers shared by the page, and the collapsible trees the inspector shows:
// plain JSON, binary nodes in their `[description, {attributes}, content]` form, and decoded
// protobuf messages (`{"WebMessageInfo": {...}}`). Everything is built with DOM calls and
// textContent, so nothing that came from the wire is ever parsed as HTML.

/** Creates an element. `props`: attributes (strings), `on*` listeners, `class`, `text`, `dataset`. */
export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') el.textContent = String(v);
      else if (k === 'class') el.className = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k in el && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, kids);
  return el;
}

function append(el, kids) {
  for (const kid of kids) {
    if (kid === null || kid === undefined || kid === false) continue;
    if (Array.isArray(kid)) append(el, kid);
    else el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
}

/** An SVG element (namespaced). */
export function svg(tag, attrs, ...kids) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const kid of kids) if (kid) el.append(kid);
  return el;
}

const HEX_SHOWN = 256; // bytes of a binary run printed before it is cut

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `{"hex": "..."}`: a byte run in the codec's JSON form. */
export function isHexBytes(v) {
  return isPlainObject(v) && typeof v.hex === 'string';
}

/** `{"WebMessageInfo": {...}}`: a decoded message protobuf. */
export function isProto(v) {
  return isPlainObject(v) && Object.keys(v).length === 1 && isPlainObject(v.WebMessageInfo);
}

/** A byte run: its length and (the start of) its hex; other fields beside `hex` (such as a
 * `protobuf_error` when a message did not decode) are listed after it. */
function hexView(v) {
  const bytes = v.hex.length / 2;
  const shown = v.hex.slice(0, HEX_SHOWN * 2).replace(/(..)/g, '$1 ').trim();
  const extra = Object.entries(v).filter(([k]) => k !== 'hex');
  return h('span', { class: 'tv-bytes' },
    h('span', { class: 'tv-meta', text: `${bytes} byte${bytes === 1 ? '' : 's'}: ` }),
    h('code', { text: shown + (bytes > HEX_SHOWN ? ' …' : '') }),
    extra.map(([k, x]) => h('div', { class: 'tv-leaf' }, keyLabel(k), leafValue(x))));
}

function leafValue(v) {
  if (v === null) return h('span', { class: 'tv-null', text: 'null' });
  switch (typeof v) {
    case 'string': return h('span', { class: 'tv-str', text: JSON.stringify(v) });
    case 'number': return h('span', { class: 'tv-num', text: String(v) });
    case 'boolean': return h('span', { class: 'tv-bool', text: String(v) });
    default: return h('span', { text: String(v) });
  }
}

function keyLabel(key) {
  return key === undefined ? null : [h('span', { class: 'tv-key', text: String(key) }), ': '];
}

/**
 * A collapsible view of any JSON value. Containers up to `openDepth` levels deep start open.
 * Byte runs and decoded protobufs found anywhere inside get their own views.
 */
export function jsonTree(value, openDepth = 2, key = undefined, depth = 0) {
  if (isHexBytes(value)) return h('div', { class: 'tv-leaf' }, keyLabel(key), hexView(value));
  if (isProto(value)) return protoBlock(value, key);
  if (value === null || typeof value !== 'object') {
    return h('div', { class: 'tv-leaf' }, keyLabel(key), leafValue(value));
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  const brief = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  if (entries.length === 0) {
    return h('div', { class: 'tv-leaf' }, keyLabel(key), h('span', { class: 'tv-meta', text: Array.isArray(value) ? '[]' : '{}' }));
  }
  return h('details', { class: 'tv-node', open: depth < openDepth },
    h('summary', null, keyLabel(key), h('span', { class: 'tv-meta', text: brief })),
    h('div', { class: 'tv-kids' }, entries.map(([k, v]) => jsonTree(v, openDepth, k, depth + 1))));
}

/** A copy of a decoded protobuf without its unset fields (null, [] or {} after pruning). */
function pruneUnset(v, counter) {
  if (Array.isArray(v)) return v.map((x) => pruneUnset(x, counter));
  if (!isPlainObject(v) || isHexBytes(v)) return v;
  const out = {};
  for (const [k, x] of Object.entries(v)) {
    const y = pruneUnset(x, counter);
    const unset = y === null || y === undefined || (Array.isArray(y) && y.length === 0) ||
      (isPlainObject(y) && Object.keys(y).length === 0);
    if (unset) counter.n++;
    else out[k] = y;
  }
  return out;
}

/** The decoded protobuf of a `message` node, fully open, unset fields left out. */
export function protoBlock(value, key) {
  const counter = { n: 0 };
  const info = pruneUnset(value.WebMessageInfo, counter);
  return h('div', { class: 'tv-proto', 'data-testid': 'proto' },
    key !== undefined && key !== 'WebMessageInfo' ? keyLabel(key) : null,
    h('div', { class: 'tv-proto-title' }, 'WebMessageInfo (protobuf)',
      counter.n ? h('span', { class: 'tv-meta', text: ` · ${counter.n} unset field${counter.n === 1 ? '' : 's'} not shown` }) : null),
    Object.entries(info).map(([k, v]) => jsonTree(v, 8, k, 0)));
}

/** The opening tag of a node: `<description key="value" …>`. */
function tagLine(desc, attrs, selfClosing) {
  const parts = [h('span', { class: 'tv-punct', text: '<' }), h('span', { class: 'tv-tag', text: String(desc) })];
  for (const [k, v] of Object.entries(attrs || {})) {
    parts.push(' ', h('span', { class: 'tv-attr', text: k }), h('span', { class: 'tv-punct', text: '=' }),
      h('span', { class: 'tv-str', text: JSON.stringify(String(v)) }));
  }
  parts.push(h('span', { class: 'tv-punct', text: selfClosing ? ' />' : '>' }));
  return parts;
}

function looksLikeNode(v) {
  return Array.isArray(v) && v.length >= 1 && v.length <= 3 && typeof v[0] === 'string' &&
    (v.length < 2 || v[1] === null || isPlainObject(v[1]));
}

/** A binary node `[description, {attributes}, content]` as a nested, collapsible tree. */
export function nodeTree(node, depth = 0) {
  if (!looksLikeNode(node)) return jsonTree(node, 2);
  const [desc, attrs, content] = node;
  if (content === null || content === undefined) {
    return h('div', { class: 'tv-leaf tv-xml' }, tagLine(desc, attrs, true));
  }
  let body;
  if (Array.isArray(content)) body = content.map((kid) => nodeTree(kid, depth + 1));
  else if (typeof content === 'string') body = h('div', { class: 'tv-leaf' }, leafValue(content));
  else if (isHexBytes(content)) body = h('div', { class: 'tv-leaf' }, hexView(content));
  else if (isProto(content)) body = protoBlock(content);
  else body = jsonTree(content, 3);
  return h('details', { class: 'tv-node tv-xml', open: depth < 6 },
    h('summary', null, tagLine(desc, attrs, false)),
    h('div', { class: 'tv-kids' }, body),
    h('div', { class: 'tv-close' }, h('span', { class: 'tv-punct', text: '</' }),
      h('span', { class: 'tv-tag', text: String(desc) }), h('span', { class: 'tv-punct', text: '>' })));
}
