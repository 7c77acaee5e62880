import { badRequest, forbidden } from './api-error.js';
import type { EmulatorCore, MethodHandler } from './emulator-core.js';
import { formatText, MAX_CAPTION_LENGTH, MAX_MESSAGE_TEXT_LENGTH } from './format-text.js';
import { readReplyMarkup, type ReplyMarkup } from './reply-markup.js';
import type { RequestParams } from './request-params.js';
import type { FormattedText } from './text-entities.js';
import type { Conversation, StoredMessage, TelegramWorld } from './world.js';

/** Bots can delete messages for everyone only within this window. */
const DELETE_WINDOW_SECONDS = 48 * 60 * 60;

const CHAT_ACTIONS = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

const MIME_TYPES: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.zip': 'application/zip',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.html': 'text/html',
  '.xml': 'application/xml',
  '.yaml': 'application/x-yaml',
  '.yml': 'application/x-yaml',
};

type Target = ReturnType<TelegramWorld['resolve']>;

/** Throws unless the bot may post a new message to the chat (403s and the channel-rights 400). */
function requireCanSend(world: TelegramWorld, target: Target): void {
  if (target.kind === 'private') {
    world.requireCanMessage(target.user);
    return;
  }
  const { chat } = target;
  world.requireBotPresent(chat);
  if (chat.info.type === 'channel' && !world.botHasRight(chat, 'can_post_messages')) {
    throw badRequest('need administrator rights in the channel chat');
  }
}

/** Throws unless the bot may touch existing messages of the chat. */
function requireCanEdit(world: TelegramWorld, target: Target): void {
  if (target.kind === 'private') {
    if (target.user.blocked) throw forbidden('bot was blocked by the user');
    return;
  }
  world.requireBotPresent(target.chat);
}

function formatMessageText(p: RequestParams, core: EmulatorCore): FormattedText {
  const raw = p.string('text');
  if (raw === undefined || raw.trim() === '') throw badRequest('message text is empty');
  const formatted = formatText({
    text: raw,
    parseMode: p.string('parse_mode'),
    entities: p.raw.entities,
    strictHtmlAmpersand: core.strictHtmlAmpersand,
  });
  if (formatted.text === '') throw badRequest('message text is empty');
  if (formatted.text.length > MAX_MESSAGE_TEXT_LENGTH) throw badRequest('message is too long');
  return formatted;
}

function formatCaption(p: RequestParams, core: EmulatorCore): FormattedText | undefined {
  const raw = p.string('caption');
  if (raw === undefined || raw === '') return undefined;
  const formatted = formatText({
    text: raw,
    parseMode: p.string('parse_mode'),
    entities: p.raw.caption_entities,
    strictHtmlAmpersand: core.strictHtmlAmpersand,
  });
  if (formatted.text.length > MAX_CAPTION_LENGTH) throw badRequest('message caption is too long');
  return formatted;
}

function chatIdOf(target: Target): number {
  return target.kind === 'private' ? target.user.info.id : target.chat.info.id;
}

function post(
  core: EmulatorCore,
  target: Target,
  content: Omit<StoredMessage, 'message_id' | 'chat_id' | 'date' | 'sender'>,
): Record<string, unknown> {
  const { world } = core;
  const message = world.appendMessage(world.conversationOf(target), {
    ...content,
    chat_id: chatIdOf(target),
    date: world.now(),
    sender: 'bot',
  });
  core.stats.sent += 1;
  world.notifyPrivate(message, 'sent');
  return world.messageObject(message);
}

function findMessage(conversation: Conversation, id: number | undefined, notFound: string): StoredMessage {
  const message = id === undefined ? undefined : conversation.messages.get(id);
  if (!message || message.deleted) throw badRequest(notFound);
  return message;
}

function requireMessageId(p: RequestParams): number {
  const id = p.int('message_id', 'message identifier is not specified');
  if (id === undefined || id <= 0) throw badRequest('message identifier is not specified');
  return id;
}

function rejectInlineMessages(p: RequestParams): void {
  if (p.has('inline_message_id')) throw badRequest('MESSAGE_ID_INVALID');
}

function sameMarkup(a: ReplyMarkup | undefined, b: ReplyMarkup | undefined): boolean {
  const keyboard = (m: ReplyMarkup | undefined) => (m && 'inline_keyboard' in m ? m.inline_keyboard : []);
  return JSON.stringify(keyboard(a)) === JSON.stringify(keyboard(b));
}

const NOT_MODIFIED =
  'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';

function mimeTypeOf(name: string | undefined): string {
  const dot = name?.lastIndexOf('.') ?? -1;
  if (!name || dot === -1) return 'application/octet-stream';
  return MIME_TYPES[name.slice(dot).toLowerCase()] ?? 'application/octet-stream';
}

/** sendMessage, edits, deletes, documents, chat actions, callback answers, getFile. */
export function messageMethods(): Record<string, MethodHandler> {
  return {
    sendMessage(p, core) {
      const target = core.world.resolve(p.chatId());
      const formatted = formatMessageText(p, core);
      const markup = readReplyMarkup(p.json('reply_markup', 'reply keyboard markup JSON object'));
      requireCanSend(core.world, target);
      const parseMode = p.string('parse_mode');
      return post(core, target, {
        text: formatted.text,
        entities: formatted.entities,
        source_text: p.string('text'),
        ...(parseMode ? { parse_mode: parseMode } : {}),
        ...(markup ? { reply_markup: markup } : {}),
      });
    },

    sendDocument(p, core) {
      const { world } = core;
      const target = world.resolve(p.chatId());
      const input = p.file('document');
      if (!input) throw badRequest('there is no document in the request');
      const caption = formatCaption(p, core);
      const markup = readReplyMarkup(p.json('reply_markup', 'reply keyboard markup JSON object'));
      requireCanSend(world, target);
      let file;
      if (input.kind === 'file_id') {
        file = world.files.get(input.fileId);
        if (!file) throw badRequest('wrong file identifier/HTTP URL specified');
      } else if (input.kind === 'upload') {
        if (input.file.bytes.length === 0) throw badRequest('file must be non-empty');
        file = world.addFile({
          kind: 'documents',
          name: input.file.filename,
          mimeType: mimeTypeOf(input.file.filename),
          bytes: input.file.bytes,
        });
      } else {
        const name = decodeURIComponent(new URL(input.url).pathname.split('/').pop() || 'file');
        file = world.addFile({ kind: 'documents', name, mimeType: mimeTypeOf(name) });
      }
      const parseMode = p.string('parse_mode');
      return post(core, target, {
        document: {
          ...(file.file_name !== undefined ? { file_name: file.file_name } : {}),
          ...(file.mime_type !== undefined ? { mime_type: file.mime_type } : {}),
          file_id: file.file_id,
          file_unique_id: file.file_unique_id,
          ...(file.file_size !== undefined ? { file_size: file.file_size } : {}),
        },
        ...(caption
          ? { caption: caption.text, caption_entities: caption.entities, source_text: p.string('caption') }
          : {}),
        ...(parseMode ? { parse_mode: parseMode } : {}),
        ...(markup ? { reply_markup: markup } : {}),
      });
    },

    copyMessage(p, core) {
      const { world } = core;
      const target = world.resolve(p.chatId());
      const from = world.resolve(p.chatId('from_chat_id'));
      const source = findMessage(world.conversationOf(from), p.int('message_id'), 'message to copy not found');
      const caption = formatCaption(p, core);
      const markup = readReplyMarkup(p.json('reply_markup', 'reply keyboard markup JSON object'));
      requireCanSend(world, target);
      const copy = post(core, target, {
        ...(source.text !== undefined ? { text: source.text, entities: source.entities ?? [] } : {}),
        ...(source.document ? { document: source.document } : {}),
        ...(caption
          ? { caption: caption.text, caption_entities: caption.entities }
          : source.caption !== undefined
            ? { caption: source.caption, caption_entities: source.caption_entities ?? [] }
            : {}),
        ...(source.contact ? { contact: source.contact } : {}),
        ...(markup ? { reply_markup: markup } : {}),
      });
      return { message_id: copy.message_id };
    },

    editMessageText(p, core) {
      const { world } = core;
      rejectInlineMessages(p);
      const target = world.resolve(p.chatId());
      const id = requireMessageId(p);
      const formatted = formatMessageText(p, core);
      const markup = readReplyMarkup(p.json('reply_markup', 'reply keyboard markup JSON object'), {
        inlineOnly: true,
      });
      requireCanEdit(world, target);
      const message = findMessage(world.conversationOf(target), id, 'message to edit not found');
      if (message.sender !== 'bot') throw badRequest("message can't be edited");
      if (message.text === undefined) throw badRequest('there is no text in the message to edit');
      if (
        message.text === formatted.text &&
        JSON.stringify(message.entities ?? []) === JSON.stringify(formatted.entities) &&
        sameMarkup(message.reply_markup, markup)
      ) {
        throw badRequest(NOT_MODIFIED);
      }
      const parseMode = p.string('parse_mode');
      message.text = formatted.text;
      message.entities = formatted.entities;
      message.source_text = p.string('text');
      if (parseMode) message.parse_mode = parseMode;
      else delete message.parse_mode;
      if (markup) message.reply_markup = markup;
      else delete message.reply_markup;
      message.edit_date = world.now();
      world.notifyPrivate(message, 'edited');
      return world.messageObject(message);
    },

    editMessageCaption(p, core) {
      const { world } = core;
      rejectInlineMessages(p);
      const target = world.resolve(p.chatId());
      const id = requireMessageId(p);
      const caption = formatCaption(p, core) ?? { text: '', entities: [] };
      const markup = readReplyMarkup(p.json('reply_markup', 'reply keyboard markup JSON object'), {
        inlineOnly: true,
      });
      requireCanEdit(world, target);
      const message = findMessage(world.conversationOf(target), id, 'message to edit not found');
      if (message.sender !== 'bot') throw badRequest("message can't be edited");
      if (message.document === undefined) throw badRequest('there is no caption in the message to edit');
      if (
        (message.caption ?? '') === caption.text &&
        JSON.stringify(message.caption_entities ?? []) === JSON.stringify(caption.entities) &&
        sameMarkup(message.reply_markup, markup)
      ) {
        throw badRequest(NOT_MODIFIED);
      }
      message.caption = caption.text;
      message.caption_entities = caption.entities;
      if (markup) message.reply_markup = markup;
      else delete message.reply_markup;
      message.edit_date = world.now();
      world.notifyPrivate(message, 'edited');
      return world.messageObject(message);
    },

    editMessageReplyMarkup(p, core) {
      const { world } = core;
      rejectInlineMessages(p);
      const target = world.resolve(p.chatId());
      const id = requireMessageId(p);
      const markup = readReplyMarkup(p.json('reply_markup', 'reply keyboard markup JSON object'), {
        inlineOnly: true,
      });
      requireCanEdit(world, target);
      const message = findMessage(world.conversationOf(target), id, 'message to edit not found');
      if (message.sender !== 'bot') throw badRequest("message can't be edited");
      if (sameMarkup(message.reply_markup, markup)) throw badRequest(NOT_MODIFIED);
      if (markup) message.reply_markup = markup;
      else delete message.reply_markup;
      message.edit_date = world.now();
      world.notifyPrivate(message, 'edited');
      return world.messageObject(message);
    },

    deleteMessage(p, core) {
      const { world } = core;
      const target = world.resolve(p.chatId());
      const id = requireMessageId(p);
      requireCanEdit(world, target);
      const message = findMessage(world.conversationOf(target), id, 'message to delete not found');
      if (world.now() - message.date >= DELETE_WINDOW_SECONDS) {
        throw badRequest("message can't be deleted for everyone");
      }
      if (target.kind === 'chat' && message.sender !== 'bot' && !world.botHasRight(target.chat, 'can_delete_messages')) {
        throw badRequest("message can't be deleted");
      }
      message.deleted = true;
      world.notifyPrivate(message, 'deleted');
      return true;
    },

    sendChatAction(p, core) {
      const target = core.world.resolve(p.chatId());
      const action = p.string('action');
      if (!action || !CHAT_ACTIONS.has(action)) throw badRequest('wrong parameter action in request');
      requireCanSend(core.world, target);
      return true;
    },

    answerCallbackQuery(p, core) {
      const id = p.string('callback_query_id') ?? '';
      const query = core.callbackQueries.get(id);
      if (!query || query.answered) {
        throw badRequest('query is too old and response timeout expired or query ID is invalid');
      }
      query.answered = true;
      const text = p.string('text');
      const showAlert = p.bool('show_alert');
      const url = p.string('url');
      const cacheTime = p.int('cache_time');
      core.callbackAnswers.push({
        callback_query_id: id,
        ...(text !== undefined ? { text } : {}),
        ...(showAlert !== undefined ? { show_alert: showAlert } : {}),
        ...(url !== undefined ? { url } : {}),
        ...(cacheTime !== undefined ? { cache_time: cacheTime } : {}),
        at: core.world.clock.now(),
      });
      return true;
    },

    getFile(p, core) {
      const fileId = p.string('file_id');
      if (!fileId) throw badRequest('file_id not specified');
      const file = core.world.files.get(fileId);
      if (!file) throw badRequest('invalid file_id');
      return {
        file_id: file.file_id,
        file_unique_id: file.file_unique_id,
        ...(file.file_size !== undefined ? { file_size: file.file_size } : {}),
        file_path: file.file_path,
      };
    },
  };
}
