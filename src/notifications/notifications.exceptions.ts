import { ConflictException } from 'src/common/problem/problem.exception';

export class NotificationNotDeadException extends ConflictException {
  constructor(status: string) {
    super('notification-not-dead', `Only dead notifications can be retried; this one is ${status}.`);
  }
}

export class NotificationExpiredException extends ConflictException {
  constructor(days: number) {
    super('notification-expired', `This email is older than ${days} days and its contents were removed (OUTBOX_RETENTION_DAYS): it can no longer be sent.`);
  }
}
