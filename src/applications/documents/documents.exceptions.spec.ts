import { DocumentsTooLargeException, FileTooLargeException } from 'src/applications/documents/documents.exceptions';

const MiB = 1024 * 1024;

describe('the size limits, as a family reads them', () => {
  it('names a file limit under half a MiB in KiB, never "0 MiB"', () => {
    expect(new FileTooLargeException(300_000).problem.detail).toBe('A document may be at most 300000 bytes (292.9 KiB).');
    expect(new FileTooLargeException(1024).problem.detail).toBe('A document may be at most 1024 bytes (1 KiB).');
  });

  it('names whole MiB as such, and rounds the rest down so a limit is never overstated', () => {
    expect(new FileTooLargeException(10 * MiB).problem).toMatchObject({ detail: 'A document may be at most 10485760 bytes (10 MiB).', maxBytes: 10 * MiB });
    expect(new FileTooLargeException(1.5 * MiB).problem.detail).toContain('(1.5 MiB)');
    expect(new FileTooLargeException(2 * MiB - 1).problem.detail).toContain('(1.9 MiB)');
    expect(new DocumentsTooLargeException(100 * MiB).problem.detail).toContain('at most 100 MiB in all');
    expect(new DocumentsTooLargeException(8192).problem.detail).toContain('at most 8 KiB in all');
    expect(new DocumentsTooLargeException(1000).problem.detail).toContain('at most 1000 bytes in all');
  });
});
