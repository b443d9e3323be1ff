/** Sign-in through the city's identity provider (web/oidc-sign-in.tsx). */
export const ruSignIn = {
  title: 'Вход',
  intro: 'Вход через городскую учётную запись: пациенты и сотрудники входят одинаково.',
  button: 'Войти через городскую учётную запись',
  failed: 'Войти не получилось: начните вход заново.',
  again: 'Войти снова',
  continue: 'Продолжить',
};
