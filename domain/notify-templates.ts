/**
 * The words of every message, Russian first and English second in one message. SMS and e-mail
 * never carry a diagnosis, a specialty or a result value (clinical-facts.md): "your results are
 * ready", with a link to sign in. Only the visit's local time and the clinic's name are shown.
 */
import type { MessageKind } from './notify';

export interface TemplateFacts {
  /** Where the recipient signs in to see it (absolute URL). */
  link: string;
  /** The visit's wall-clock time in the clinic's zone, 'YYYY-MM-DDTHH:MM', for visit messages. */
  visitLocal: string | null;
  /** Until when an offer is held, clinic wall-clock time. */
  holdUntilLocal: string | null;
  clinicName: string | null;
}

export interface RenderedMessage {
  subject: string;
  text: string;
  sms: string;
}

const when = (local: string | null, lang: 'ru' | 'en') => {
  if (!local) return lang === 'ru' ? 'в назначенное время' : 'at the booked time';
  const [date, time] = local.split('T');
  const [y, m, d] = date!.split('-');
  return lang === 'ru' ? `${d}.${m}.${y} в ${time}` : `${d}/${m}/${y} at ${time}`;
};

type Words = { subject: string; line: string };

function words(kind: MessageKind, f: TemplateFacts, lang: 'ru' | 'en'): Words {
  const at = when(f.visitLocal, lang);
  const clinic = f.clinicName ? (lang === 'ru' ? `, ${f.clinicName}` : `, ${f.clinicName}`) : '';
  const hold = when(f.holdUntilLocal, lang);
  const place = f.clinicName ? ` (${f.clinicName})` : '';
  const ru = lang === 'ru';
  switch (kind) {
    case 'reminder':
      return ru
        ? { subject: 'Напоминание о приёме', line: `Напоминаем: у вас приём ${at}${clinic}.` }
        : { subject: 'Visit reminder', line: `A reminder: you have a visit on ${at}${clinic}.` };
    case 'waitlist-offer':
      return ru
        ? {
            subject: 'Освободилось время для приёма',
            line: `Для вас освободилось время ${at}${clinic}. Оно держится за вами до ${hold}: подтвердите запись.`,
          }
        : {
            subject: 'A visit time is free for you',
            line: `A time became free for you: ${at}${clinic}. It is held for you until ${hold}: confirm the booking.`,
          };
    case 'cancelled':
      return ru
        ? { subject: 'Приём отменён', line: `Ваш приём ${at} отменён. Запишитесь на другое время.` }
        : { subject: 'Visit cancelled', line: `Your visit on ${at} is cancelled. Please book another time.` };
    case 'rescheduled':
      return ru
        ? { subject: 'Приём перенесён', line: `Ваш приём перенесён на ${at}${clinic}.` }
        : { subject: 'Visit moved', line: `Your visit has been moved to ${at}${clinic}.` };
    case 'results-ready':
      return ru
        ? { subject: 'Результаты готовы', line: 'Ваши результаты готовы.' }
        : { subject: 'Your results are ready', line: 'Your results are ready.' };
    case 'critical-result':
      return ru
        ? {
            subject: 'СРОЧНО: критический результат анализа',
            line: 'По вашему назначению пришёл критический результат. Подтвердите его с повтором значения.',
          }
        : {
            subject: 'URGENT: critical lab result',
            line: 'A critical result came in for an order of yours. Acknowledge it with a read-back.',
          };
    case 'critical-escalation-covering':
      return ru
        ? {
            subject: 'СРОЧНО: критический результат без подтверждения',
            line: 'Критический результат не подтверждён лечащим врачом. Вы дежурный врач: подтвердите его.',
          }
        : {
            subject: 'URGENT: unacknowledged critical result',
            line: 'A critical result was not acknowledged by the ordering doctor. You are covering: acknowledge it.',
          };
    case 'critical-escalation-head':
      return ru
        ? {
            subject: 'СРОЧНО: критический результат без подтверждения — заведующему',
            line: 'Критический результат не подтверждён ни лечащим, ни дежурным врачом. Примите меры.',
          }
        : {
            subject: 'URGENT: critical result still unacknowledged — head of department',
            line: 'Neither the ordering nor the covering doctor acknowledged a critical result. Please act.',
          };
    // Staff messages name no patient, diagnosis or specialty: the link opens the record after sign-in.
    case 'referral-near-breach':
      return ru
        ? {
            subject: 'Направление близко к нарушению срока ожидания',
            line: `Направление${place} не записано, срок ожидания почти истёк. Вы заведующий по графику: примите меры.`,
          }
        : {
            subject: 'A referral is close to its legal waiting time',
            line: `A referral${place} is not booked and its waiting time is nearly over. You are the head on the roster: please act.`,
          };
    case 'referral-breached':
      return ru
        ? {
            subject: 'Срок ожидания по направлению нарушен',
            line: `Направление${place} не записано в установленный срок ожидания. Вы заведующий по графику: примите меры.`,
          }
        : {
            subject: 'A referral breached its waiting time',
            line: `A referral${place} was not booked within its legal waiting time. You are the head on the roster: please act.`,
          };
    case 'onboarding-task-overdue':
      return ru
        ? {
            subject: 'Просрочена задача подключения клиники',
            line: `Задача подключения${place} просрочена. Вы ответственный за подключение по графику: проверьте её.`,
          }
        : {
            subject: 'An onboarding task is overdue',
            line: `An onboarding task${place} is overdue. You are the onboarding lead on the roster: please look at it.`,
          };
  }
}

/** One message, Russian then English; the SMS is Russian only (one or two segments) with the link. */
export function renderMessage(kind: MessageKind, facts: TemplateFacts): RenderedMessage {
  const ru = words(kind, facts, 'ru');
  const en = words(kind, facts, 'en');
  const signIn = `Войдите, чтобы посмотреть: ${facts.link}`;
  const text = [
    ru.line,
    signIn,
    '',
    '—',
    '',
    en.line,
    `Sign in to see it: ${facts.link}`,
    '',
    'Это автоматическое сообщение, не отвечайте на него. / This is an automatic message; please do not reply.',
  ].join('\n');
  return { subject: `${ru.subject} / ${en.subject}`, text, sms: `${ru.line} ${facts.link}` };
}
