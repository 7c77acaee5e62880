import { badRequest, conflict } from './api-error.js';
import { DescribedResult, type MethodHandler } from './emulator-core.js';
import type { RequestParams } from './request-params.js';

const WEBHOOK_ACTIVE =
  "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";

/** Longest long poll Telegram holds, in seconds. */
const MAX_POLL_TIMEOUT_SECONDS = 50;

function readAllowedUpdates(p: RequestParams): string[] | undefined {
  const value = p.json('allowed_updates', 'allowed_updates JSON object');
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw badRequest("can't parse allowed_updates JSON object");
  }
  return value as string[];
}

/** getMe, getUpdates and the webhook methods. */
export function updateMethods(): Record<string, MethodHandler> {
  return {
    getMe(_p, core) {
      return {
        ...core.world.botUserObject(),
        can_join_groups: true,
        can_read_all_group_messages: false,
        supports_inline_queries: false,
        can_connect_to_business: false,
        has_main_web_app: false,
      };
    },

    async getUpdates(p, core, call) {
      if (core.webhook.config) throw conflict(WEBHOOK_ACTIVE);
      const limit = Math.min(100, Math.max(1, p.int('limit') ?? 100));
      const timeoutSeconds = Math.min(MAX_POLL_TIMEOUT_SECONDS, Math.max(0, p.int('timeout') ?? 0));
      core.queue.setAllowedUpdates(readAllowedUpdates(p));
      const offset = p.int('offset');
      return core.queue.get({ ...(offset !== undefined ? { offset } : {}), limit, timeoutSeconds }, call.signal);
    },

    setWebhook(p, core) {
      const url = (p.string('url') ?? '').trim();
      if (url === '') {
        const had = core.webhook.config !== undefined;
        core.webhook.set(undefined);
        return new DescribedResult(true, had ? 'Webhook was deleted' : 'Webhook is already deleted');
      }
      // The emulator accepts http:// and any port so that tests can receive on 127.0.0.1.
      if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
        throw badRequest('invalid webhook URL specified');
      }
      const secretToken = p.string('secret_token');
      if (secretToken !== undefined && secretToken !== '') {
        if (secretToken.length > 256) throw badRequest('secret token is too long');
        if (!/^[A-Za-z0-9_-]+$/.test(secretToken)) throw badRequest('secret token contains illegal characters');
      }
      const allowed = readAllowedUpdates(p);
      if (p.bool('drop_pending_updates')) core.queue.drop();
      core.queue.setAllowedUpdates(allowed);
      const maxConnections = Math.min(100, Math.max(1, p.int('max_connections') ?? 40));
      const same =
        core.webhook.config?.url === url && (core.webhook.config.secretToken ?? '') === (secretToken ?? '');
      core.queue.terminatePoll(conflict('terminated by setWebhook request'));
      core.webhook.set({ url, maxConnections, ...(secretToken ? { secretToken } : {}) });
      return new DescribedResult(true, same ? 'Webhook is already set' : 'Webhook was set');
    },

    deleteWebhook(p, core) {
      const had = core.webhook.config !== undefined;
      if (p.bool('drop_pending_updates')) core.queue.drop();
      core.webhook.set(undefined);
      return new DescribedResult(true, had ? 'Webhook was deleted' : 'Webhook is already deleted');
    },

    getWebhookInfo(_p, core) {
      const config = core.webhook.config;
      const allowed = core.queue.allowedUpdatesExplicit;
      return {
        url: config?.url ?? '',
        has_custom_certificate: false,
        pending_update_count: core.queue.pending().length,
        ...(config ? { max_connections: config.maxConnections, ip_address: '127.0.0.1' } : {}),
        ...(config && core.webhook.lastErrorDate !== undefined
          ? { last_error_date: core.webhook.lastErrorDate, last_error_message: core.webhook.lastErrorMessage }
          : {}),
        ...(allowed ? { allowed_updates: allowed } : {}),
      };
    },
  };
}
