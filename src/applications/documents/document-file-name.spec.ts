import { attachmentDisposition, documentFileName } from 'src/applications/documents/document-file-name';

describe('documentFileName', () => {
  it('keeps a matching extension and strips any path', () => {
    expect(documentFileName('../../etc/诊断书.PDF', 'application/pdf')).toBe('诊断书.PDF');
    expect(documentFileName('C:\\Users\\x\\scan.jpeg', 'image/jpeg')).toBe('scan.jpeg');
  });

  it('appends the extension of the detected type when the name claims another', () => {
    expect(documentFileName('photo.exe', 'image/png')).toBe('photo.exe.png');
    expect(documentFileName('', 'application/pdf')).toBe('document.pdf');
    expect(documentFileName(undefined, 'image/jpeg')).toBe('document.jpg');
  });
});

describe('attachmentDisposition', () => {
  it('gives an ASCII fallback and the exact UTF-8 name', () => {
    expect(attachmentDisposition('诊断书 (1).pdf')).toBe(`attachment; filename="___ (1).pdf"; filename*=UTF-8''%E8%AF%8A%E6%96%AD%E4%B9%A6%20%281%29.pdf`);
  });

  it('cannot be broken out of by quotes, semicolons or line breaks', () => {
    const header = attachmentDisposition('a";\r\nSet-Cookie: x=1;.pdf');
    expect(header).not.toMatch(/[\r\n]/);
    expect(header.startsWith('attachment; filename="a__')).toBe(true);
    expect(header.split('"').length).toBe(3);
  });
});
