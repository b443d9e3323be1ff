/** What the referral route files share: the deps, the roles, the desk and report commands, and how a referral is answered. */
import { referralView } from '../../db/referral';
import { currentOffers } from '../../db/referral-offers';
import type { Referral } from '../../db/schema';
import { requireRole, type Caller } from '../auth';
import { presentWithOffers as presentWithOffersOf, referralDesk } from '../referral-desk';
import { referralReportCommands } from '../referral-report';
import type { ApiDeps, newRouter } from '../router';

export function referralContext(deps: ApiDeps) {
  const { db, config } = deps;
  /** A referral as answered: its row and the offers its patient can take now (db/referral-offers.ts). */
  const view = async (r: Referral) => ({ ...referralView(r), offeredSlots: await currentOffers(db, r) });
  return {
    deps,
    roles: {
      anyone: requireRole(config, 'patient', 'registrar', 'doctor', 'admin'),
      referrers: requireRole(config, 'registrar', 'doctor', 'admin'),
      staff: requireRole(config, 'registrar', 'doctor', 'admin'),
      bookers: requireRole(config, 'patient', 'registrar', 'admin'),
      doctors: requireRole(config, 'doctor'),
    },
    desk: referralDesk(deps),
    reportCommands: referralReportCommands(deps),
    view,
    /** A list's rows with names beside ids and the offers still bookable now. */
    presentWithOffers: (caller: Caller, rows: Referral[], recordRead = false) => presentWithOffersOf(db, caller, rows, recordRead),
    /** The referral as it is now in the database, answered. */
    fresh: async (id: string) => view(await db.selectFrom('referrals').selectAll().where('id', '=', id).executeTakeFirstOrThrow()),
  };
}

export type ReferralContext = ReturnType<typeof referralContext>;
export type ReferralRouter = ReturnType<typeof newRouter>;
