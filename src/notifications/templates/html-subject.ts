const TITLE = /<title[^>]*>([\s\S]*?)<\/title>/i;
const ENTITY = /&(#x[0-9a-f]+|#\d+|[a-z]+);/gi;
const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** The email subject: the text of the HTML `<title>`, decoded and on one line (a newline would break the header). */
export function subjectFromHtml(html: string): string | undefined {
  const title = TITLE.exec(html)?.[1];
  if (title === undefined) return undefined;
  return decodeHtmlEntities(title).replace(/\s+/g, ' ').trim();
}

export function decodeHtmlEntities(text: string): string {
  return text.replace(ENTITY, (entity, name: string) => {
    if (name[0] !== '#') return NAMED_ENTITIES[name.toLowerCase()] ?? entity;
    const codePoint = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return codePoint > 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : entity;
  });
}
