import { ConflictException } from 'src/common/problem/problem.exception';

export class NotificationNotDeadException extends ConflictException {
  constructor(status: string) {
    super('notification-not-dead', `Only dead notifications can be retried; this one is ${status}.`);
  }
}
