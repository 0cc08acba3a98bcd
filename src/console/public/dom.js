// Small DOM helpers shared by the mediators' console and the script editor (/console/admin).
// Data is only ever inserted as text (textContent, attributes), never as HTML.

export const $ = (id) => document.getElementById(id);

/**
 * An element with attributes and children. `class` sets the class name, `text` the text content, `on…`
 * adds an event listener; undefined, null and false skip the entry; true sets an empty attribute. Children may be
 * given one by one or as arrays.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

export function show(node, visible) {
  node.hidden = !visible;
}
