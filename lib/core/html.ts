// Text made safe to put inside HTML: tables, figure pages and widgets all escape through here.

/** Escapes the five characters that could end an element or an attribute early. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
