import { weakPasswordReason } from 'src/common/validation/new-password';

describe('weakPasswordReason', () => {
  it.each([
    ['          ', 'password must not be only spaces'],
    ['\t \u3000        ', 'password must not be only spaces'],
    ['xxxxxxxxxxxx', 'password must not be one character repeated'],
    ['1234567890', 'password is one of the most common passwords; choose another'],
    ['WoAiNi1314', 'password is one of the most common passwords; choose another'],
    ['Password123', 'password is one of the most common passwords; choose another'],
  ])('refuses %j', (password, reason) => {
    expect(weakPasswordReason(password)).toBe(reason);
  });

  it.each(['correct horse battery staple', '  spaces around are fine  ', '我的孩子叫小明2019年生', '12345678901x'])('accepts %j', (password) => {
    expect(weakPasswordReason(password)).toBeNull();
  });
});
