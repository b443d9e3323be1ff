/** Messages: the in-app inbox and contact points (issue 23). Typed against the Russian strings. */
import type { ruNotify } from './ru-notify';

export const enNotify: { [K in keyof typeof ruNotify]: string } = {
  inbox: 'Messages',
  inboxEmpty: 'No messages yet.',
  open: 'Open',
  contacts: 'How to reach me',
  contactsIntro:
    'How we tell you about visits and results. We never write to a channel without your consent. At night (21:00–09:00) reminders wait for the morning; urgent messages do not.',
  email: 'E-mail',
  phone: 'Phone for SMS',
  app: 'Messages in the app',
  consent: 'I agree to receive messages here',
  preferred: 'Preferred channel',
  noPreference: 'No preference',
  save: 'Save',
  saved: 'Saved.',
  invalidContact: 'Check the address or number: the preferred channel needs your consent.',
};
