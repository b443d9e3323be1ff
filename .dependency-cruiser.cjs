/**
 * The house's floors (ARCHITECTURE.md): an import runs down, never up. `npm test` runs this
 * (`npm run lint:layers`) and fails on a violation.
 *   domain → nothing of ours but domain
 *   platform → domain
 *   db → domain, platform
 *   workflows → domain, workflows, and activity *types* only
 *   activities → domain, platform, db, workflows (message definitions, ids)
 *   api → anything below it; web → api, db, domain, platform, workflows, never activities
 *   workers → anything but api and web; nothing imports workers (tests and bench excepted)
 *   local-stack (npm start: embedded Postgres, Temporal dev server, supervisor) → anything but web;
 *     nothing imports it but tests and bench, and it stays out of the production image (.dockerignore)
 */
const OURS = '^(domain|platform|db|workflows|activities|api|web|workers|local-stack)/';
module.exports = {
  forbidden: [
    { name: 'domain-is-the-floor', severity: 'error', comment: 'domain imports only domain',
      from: { path: '^domain/' }, to: { path: '^(platform|db|workflows|activities|api|web|workers|local-stack|tests|bench)/' } },
    { name: 'platform-stands-on-domain', severity: 'error', comment: 'platform imports only domain and platform',
      from: { path: '^platform/' }, to: { path: '^(db|workflows|activities|api|workers|local-stack|tests|bench)/' } },
    { name: 'db-below-processes', severity: 'error', comment: 'db never imports workflows, activities, api or workers',
      from: { path: '^db/' }, to: { path: '^(workflows|activities|api|workers|local-stack|tests|bench)/' } },
    { name: 'workflows-deterministic', severity: 'error', comment: 'workflows import domain, workflows, and activity types only',
      from: { path: '^workflows/' }, to: { path: '^(platform|db|api|workers|local-stack|tests|bench)/' } },
    { name: 'workflows-activity-types-only', severity: 'error', comment: 'a workflow may name activity types, never load their code',
      from: { path: '^workflows/' }, to: { path: '^activities/', dependencyTypesNot: ['type-only'] } },
    { name: 'activities-below-api', severity: 'error', comment: 'activities never import api or workers',
      from: { path: '^activities/' }, to: { path: '^(api|workers|local-stack|tests|bench)/' } },
    { name: 'web-imports-no-activities', severity: 'error', comment: 'pages call the API\'s commands and queries, never activity code',
      from: { path: '^web/' }, to: { path: '^activities/' } },
    { name: 'below-web', severity: 'error', comment: 'only tests and bench import web (api mounts it: api/app.ts)',
      from: { path: '^(domain|platform|db|workflows|activities|workers|local-stack)/' }, to: { path: '^web/' } },
    { name: 'workers-import-no-api', severity: 'error',
      comment: 'workers run processes, not the API: shared tokens, error shape and metrics access live in platform/ (api/server.ts serves the API)',
      from: { path: '^workers/' }, to: { path: '^api/' } },
    { name: 'api-below-workers', severity: 'error', comment: 'nothing imports workers (entry points)',
      from: { path: OURS, pathNot: '^workers/' }, to: { path: '^workers/' } },
    { name: 'nothing-imports-the-local-stack', severity: 'error', comment: 'the local stack is a tool for one machine, outside the production image',
      from: { path: OURS, pathNot: '^local-stack/' }, to: { path: '^local-stack/' } },
    { name: 'no-cycles', severity: 'error', comment: 'no import cycles between our files',
      from: { path: OURS }, to: { circular: true, dependencyTypesNot: ['type-only'] } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|\\.data|\\.tools|\\.scratch|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    combinedDependencies: false,
  },
};
