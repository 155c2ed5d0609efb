/**
 * The phone's database: the one module that owns IndexedDB (Dexie). Versioned stores; an upgrade
 * adds a `this.version(n + 1)` block and never edits an old one, so a phone that skipped releases
 * still upgrades step by step.
 *
 * Durability: Chromium commits IndexedDB transactions "relaxed" by default (acknowledged before the
 * data reaches the disk); the outbox holds work that exists nowhere else, so every transaction of
 * this database is opened `strict`.
 */
import Dexie, { type EntityTable } from 'dexie';

export type RecordKind = 'assistance_record' | 'communication' | 'difficulty' | 'household' | 'resident';

export interface RecordErrorInfo {
  code: string;
  message: string;
  status?: string;
  fields?: { field: string; code: string; message: string }[];
}

/** A record made on this phone, waiting to reach the server. Keyed by the record's own UUID. */
export interface OutboxEntry {
  id: string;
  kind: RecordKind;
  op: 'create' | 'update' | 'delete';
  base_version?: number | null;
  data: Record<string, unknown>;
  /** Milliseconds since the epoch; records are sent oldest first. */
  createdAt: number;
  /** `pending` waits for the uploader; `rejected` was refused and is kept aside with `lastError`. */
  status: 'pending' | 'rejected';
  attempts: number;
  lastError?: RecordErrorInfo | null;
  /** The account that made it: only that account's session sends it. */
  owner: string;
}

export interface Household {
  id: string;
  village_id: string;
  hamlet?: string | null;
  lane?: string | null;
  house_number?: string | null;
  head_name?: string | null;
  phone?: string | null;
  last_visited_at?: string | null;
  consent_at?: string | null;
  version?: number | null;
  /** normalise(head, address): what search matches. */
  search: string;
}

export interface Resident {
  id: string;
  household_id: string;
  full_name?: string | null;
  birth_year?: number | null;
  sex?: string | null;
  phone?: string | null;
  relation_to_head?: string | null;
  version?: number | null;
  search: string;
}

export interface Adoption {
  id: string;
  household_id: string;
  resident_id?: string | null;
  service_code: string;
  status: string;
  status_on?: string | null;
  source?: string | null;
}

export interface Service {
  id: string;
  code: string;
  name_vi: string;
  name_en: string;
  department?: string | null;
  level: string;
  min_age?: number | null;
  sort_order?: number | null;
  retired?: boolean;
}

/** Field records from the server (this phone's once synced, and the village's). */
export interface FieldRecord {
  id: string;
  kind: 'assistance_record' | 'communication' | 'difficulty';
  household_id?: string | null;
  data: Record<string, unknown>;
}

export interface Material {
  id: string;
  department?: string | null;
  version?: number;
  title: string;
  summary?: string | null;
  body?: string | null;
  service_codes?: string[];
  published_at?: string | null;
}

export interface Meta {
  key: string;
  value: unknown;
}

export class FieldDb extends Dexie {
  outbox!: EntityTable<OutboxEntry, 'id'>;
  households!: EntityTable<Household, 'id'>;
  residents!: EntityTable<Resident, 'id'>;
  adoptions!: EntityTable<Adoption, 'id'>;
  services!: EntityTable<Service, 'id'>;
  records!: EntityTable<FieldRecord, 'id'>;
  materials!: EntityTable<Material, 'id'>;
  meta!: EntityTable<Meta, 'key'>;

  constructor(name = 'tungnha') {
    super(name, { chromeTransactionDurability: 'strict' });
    this.version(1).stores({
      outbox: '&id, createdAt, status, owner',
      households: '&id, village_id',
      residents: '&id, household_id',
      adoptions: '&id, household_id',
      services: '&id, &code',
      records: '&id, household_id, kind',
      materials: '&id',
      meta: '&key',
    });
  }

  async getMeta<T>(key: string): Promise<T | undefined> {
    return (await this.meta.get(key))?.value as T | undefined;
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    await this.meta.put({ key, value });
  }

  /** The installation's id, made once and kept (the server keys devices and sync health by it). */
  async deviceId(): Promise<string> {
    return this.transaction('rw', this.meta, async () => {
      const known = await this.getMeta<string>('device_id');
      if (known) return known;
      const id = crypto.randomUUID();
      await this.setMeta('device_id', id);
      return id;
    });
  }

  /**
   * Forget the personal data pulled for a session (households, residents, records, the pull
   * cursor). The outbox is not touched: it is work that exists nowhere else.
   */
  async clearPulled(): Promise<void> {
    await this.transaction(
      'rw',
      [this.households, this.residents, this.adoptions, this.records, this.materials, this.services, this.meta],
      async () => {
        await Promise.all([
          this.households.clear(),
          this.residents.clear(),
          this.adoptions.clear(),
          this.records.clear(),
          this.materials.clear(),
          this.services.clear(),
          this.meta.delete('pull_cursor'),
          this.meta.delete('last_pull_at'),
        ]);
      },
    );
  }
}

let shared: FieldDb | undefined;
export function db(): FieldDb {
  shared ??= new FieldDb();
  return shared;
}
