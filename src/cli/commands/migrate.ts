import { migrateToLatest, openStore, storeOptions } from '../../store/open-store.js';
import type { Command } from '../command.js';

export const migrate: Command = {
  usage: `migrate                       apply pending database migrations`,
  async run(context) {
    const config = context.config();
    const store = await openStore(config.database, storeOptions(config));
    try {
      const applied = await migrateToLatest(store);
      context.print(applied.length ? `Applied ${applied.join(', ')}` : 'Database is up to date', { applied });
    } finally {
      await store.close();
    }
    return 0;
  },
};
