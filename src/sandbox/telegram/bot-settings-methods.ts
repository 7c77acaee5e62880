import { badRequest } from './api-error.js';
import type { MethodHandler } from './emulator-core.js';
import type { RequestParams } from './request-params.js';

const MAX_COMMANDS = 100;

function commandsKey(p: RequestParams): string {
  const scope = (p.json('scope', 'BotCommandScope JSON object') as Record<string, unknown> | undefined) ?? {
    type: 'default',
  };
  if (typeof scope !== 'object' || scope === null || typeof scope.type !== 'string') {
    throw badRequest("can't parse BotCommandScope JSON object");
  }
  const normalized: Record<string, unknown> = { type: scope.type };
  if (scope.chat_id !== undefined) normalized.chat_id = String(scope.chat_id);
  if (scope.user_id !== undefined) normalized.user_id = Number(scope.user_id);
  return JSON.stringify([normalized, languageCode(p)]);
}

function languageCode(p: RequestParams): string {
  const code = p.string('language_code') ?? '';
  if (code !== '' && !/^[a-z]{2}$/.test(code)) throw badRequest('invalid language code specified');
  return code;
}

function readCommands(p: RequestParams): Array<{ command: string; description: string }> {
  const value = p.json('commands', 'commands JSON object');
  if (!Array.isArray(value)) throw badRequest("can't parse commands JSON object");
  if (value.length > MAX_COMMANDS) throw badRequest('BOT_COMMANDS_TOO_MUCH');
  return value.map((item: unknown) => {
    const c = (item ?? {}) as Record<string, unknown>;
    const command = typeof c.command === 'string' ? c.command.replace(/^\//, '') : '';
    const description = typeof c.description === 'string' ? c.description : '';
    if (command === '') throw badRequest('command must be non-empty');
    if (command.length > 32) throw badRequest('command length must not exceed 32');
    if (!/^[a-z0-9_]+$/.test(command)) throw badRequest('BOT_COMMAND_INVALID');
    if (description.trim() === '') throw badRequest('command description must be non-empty');
    if (description.length > 256) throw badRequest('command description length must not exceed 256');
    return { command, description };
  });
}

/** Commands, descriptions, names and the menu button. */
export function botSettingsMethods(): Record<string, MethodHandler> {
  const textSetting = (
    key: 'descriptions' | 'shortDescriptions' | 'names',
    field: string,
    max: number,
  ): { set: MethodHandler; get: MethodHandler } => ({
    set(p, core) {
      const value = p.string(field) ?? '';
      if (value.length > max) throw badRequest(`${field.replace('_', ' ')} is too long`);
      const lang = languageCode(p);
      if (value === '') core.settings[key].delete(lang);
      else core.settings[key].set(lang, value);
      return true;
    },
    get(p, core) {
      return { [field]: core.settings[key].get(languageCode(p)) ?? '' };
    },
  });
  const description = textSetting('descriptions', 'description', 512);
  const shortDescription = textSetting('shortDescriptions', 'short_description', 120);
  const name = textSetting('names', 'name', 64);

  return {
    setMyCommands(p, core) {
      const commands = readCommands(p);
      const key = commandsKey(p);
      if (commands.length === 0) core.settings.commands.delete(key);
      else core.settings.commands.set(key, commands);
      return true;
    },
    getMyCommands(p, core) {
      return core.settings.commands.get(commandsKey(p)) ?? [];
    },
    deleteMyCommands(p, core) {
      core.settings.commands.delete(commandsKey(p));
      return true;
    },
    setMyDescription: description.set,
    getMyDescription: description.get,
    setMyShortDescription: shortDescription.set,
    getMyShortDescription: shortDescription.get,
    setMyName: name.set,
    getMyName: name.get,
    setChatMenuButton(p, core) {
      const chatId = p.has('chat_id') ? String(p.chatId()) : '';
      if (chatId !== '') core.world.resolve(Number(chatId));
      const button = p.json('menu_button', 'MenuButton JSON object') as Record<string, unknown> | undefined;
      if (button !== undefined && (typeof button !== 'object' || typeof button.type !== 'string')) {
        throw badRequest("can't parse MenuButton JSON object");
      }
      if (!button || button.type === 'default') core.settings.menuButtons.delete(chatId);
      else core.settings.menuButtons.set(chatId, button);
      return true;
    },
    getChatMenuButton(p, core) {
      const chatId = p.has('chat_id') ? String(p.chatId()) : '';
      return core.settings.menuButtons.get(chatId) ?? core.settings.menuButtons.get('') ?? { type: 'commands' };
    },
  };
}
