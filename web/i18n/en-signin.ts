/** Sign-in through the city's identity provider (web/oidc-sign-in.tsx). */
export const enSignIn = {
  title: 'Sign in',
  intro: 'Sign in with your city account: patients and staff sign in the same way.',
  button: 'Sign in with the city account',
  failed: 'The sign-in did not complete: please start again.',
  again: 'Sign in again',
  continue: 'Continue',
};
