import { AppConfig } from 'src/config/app-config';

describe('AppConfig.publicUrl', () => {
  const config = (url: string) => new AppConfig({ APP_PUBLIC_URL: url } as unknown as AppConfig['env']);

  it.each([
    ['https://sprout.example.org', '/applications/1', 'https://sprout.example.org/applications/1'],
    ['https://sprout.example.org/', '/applications/1', 'https://sprout.example.org/applications/1'],
    ['https://sprout.example.org/', 'applications/1', 'https://sprout.example.org/applications/1'],
    ['https://fund.example.org/sprout', '/accept-invite?token=a%2Bb', 'https://fund.example.org/sprout/accept-invite?token=a%2Bb'],
  ])('%s + %s', (base, path, expected) => {
    expect(config(base).publicUrl(path)).toBe(expected);
  });
});
