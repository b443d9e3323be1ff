/**
 * The house's floors (ARCHITECTURE.md): an import runs down, never up. `npm test` runs this
 * (`npm run lint:layers`) and fails on a violation.
 *   domain → nothing of ours but domain
 *   platform → domain
 *   db → domain, platform
 *   workflows → domain, workflows, and activity *types* only
 *   commands → domain, platform, db (a command: one transaction, the rows and the outbox row)
 *   activities → domain, platform, db, commands, workflows (message definitions, ids)
 *   api and web → commands, db (reads), domain, platform, workflows; never activities, never db/tx
 *   (and, by eslint, no insertInto/updateTable/deleteFrom/transaction of their own: writes are commands)
 *   workers → anything but api and web; nothing imports workers (tests and bench excepted)
 *   local-stack (npm start: embedded Postgres, Temporal dev server, supervisor) → anything but web;
 *     nothing imports it but tests and bench, and it stays out of the production image (.dockerignore)
 */
const OURS = '^(domain|platform|db|commands|workflows|activities|api|web|workers|local-stack)/';
module.exports = {
  forbidden: [
    {
      name: 'domain-is-the-floor',
      severity: 'error',
      comment: 'domain imports only domain',
      from: { path: '^domain/' },
      to: { path: '^(platform|db|commands|workflows|activities|api|web|workers|local-stack|tests|bench)/' },
    },
    {
      name: 'platform-stands-on-domain',
      severity: 'error',
      comment: 'platform imports only domain and platform',
      from: { path: '^platform/' },
      to: { path: '^(db|commands|workflows|activities|api|workers|local-stack|tests|bench)/' },
    },
    {
      name: 'db-below-processes',
      severity: 'error',
      comment: 'db never imports workflows, activities, api or workers',
      from: { path: '^db/' },
      to: { path: '^(commands|workflows|activities|api|workers|local-stack|tests|bench)/' },
    },
    {
      name: 'commands-stand-on-db',
      severity: 'error',
      comment: 'a command is rows and an outbox row in one transaction: it imports domain, platform and db only',
      from: { path: '^commands/' },
      to: { path: '^(workflows|activities|api|web|workers|local-stack|tests|bench)/' },
    },
    {
      name: 'workflows-deterministic',
      severity: 'error',
      comment: 'workflows import domain, workflows, and activity types only',
      from: { path: '^workflows/' },
      to: { path: '^(platform|db|commands|api|workers|local-stack|tests|bench)/' },
    },
    {
      name: 'workflows-activity-types-only',
      severity: 'error',
      comment: 'a workflow may name activity types, never load their code',
      from: { path: '^workflows/' },
      to: { path: '^activities/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'activities-below-api',
      severity: 'error',
      comment: 'activities never import api or workers',
      from: { path: '^activities/' },
      to: { path: '^(api|workers|local-stack|tests|bench)/' },
    },
    {
      name: 'api-and-web-run-no-activities',
      severity: 'error',
      comment: 'the API and the pages call commands and queries, never activity code',
      from: { path: '^(api|web)/' },
      to: { path: '^activities/' },
    },
    {
      name: 'api-and-web-write-through-commands',
      severity: 'error',
      comment: "transactions are the commands' (commands/): the API and pages open none",
      from: { path: '^(api|web)/' },
      to: { path: '^db/tx\\.ts$' },
    },
    {
      name: 'below-web',
      severity: 'error',
      comment: 'only tests and bench import web (api mounts it: api/app.ts)',
      from: { path: '^(domain|platform|db|commands|workflows|activities|workers|local-stack)/' },
      to: { path: '^web/' },
    },
    {
      name: 'workers-import-no-api',
      severity: 'error',
      comment:
        'workers run processes, not the API: shared tokens, error shape and metrics access live in platform/ (api/server.ts serves the API)',
      from: { path: '^workers/' },
      to: { path: '^api/' },
    },
    {
      name: 'api-below-workers',
      severity: 'error',
      comment: 'nothing imports workers (entry points)',
      from: { path: OURS, pathNot: '^workers/' },
      to: { path: '^workers/' },
    },
    {
      name: 'nothing-imports-the-local-stack',
      severity: 'error',
      comment: 'the local stack is a tool for one machine, outside the production image',
      from: { path: OURS, pathNot: '^local-stack/' },
      to: { path: '^local-stack/' },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'no import cycles between our files',
      from: { path: OURS },
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|\\.data|\\.tools|\\.scratch|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    combinedDependencies: false,
  },
};
