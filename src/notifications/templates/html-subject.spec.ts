import { decodeHtmlEntities, subjectFromHtml } from 'src/notifications/templates/html-subject';

describe('subjectFromHtml', () => {
  it('takes the title text, on one trimmed line', () => {
    expect(subjectFromHtml('<html><head><title>\n  Your   application\n  SPR-1 </title></head></html>')).toBe('Your application SPR-1');
  });

  it('decodes the entities Handlebars escaped, once', () => {
    expect(subjectFromHtml('<title>R&amp;D &lt;b&gt; &quot;x&quot; &#x27;y&#x27; &#x60;z&#x3D;1&#39; &amp;lt;</title>')).toBe(
      'R&D <b> "x" \'y\' `z=1\' &lt;',
    );
  });

  it('returns undefined when there is no title', () => {
    expect(subjectFromHtml('<html><body>no title</body></html>')).toBeUndefined();
  });
});

describe('decodeHtmlEntities', () => {
  it('leaves unknown or invalid entities alone', () => {
    expect(decodeHtmlEntities('&bogus; &#0; &#x110000; 100% & more')).toBe('&bogus; &#0; &#x110000; 100% & more');
  });

  it('decodes characters outside the basic plane', () => {
    expect(decodeHtmlEntities('&#x1F331; &#128154;')).toBe('🌱 💚');
  });
});
