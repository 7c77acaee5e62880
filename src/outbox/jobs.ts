/**
 * Everything the outbox can do. Payloads are plain JSON, rendered at enqueue time (texts are
 * already in the customer's language), so a job means the same thing after a restart or a
 * catalog edit.
 */
import type { InlineKeyboardMarkup } from 'grammy/types';

export type ReplyMarkup = InlineKeyboardMarkup;

export type Job =
  /** A message to a customer or an admin. */
  | {
      kind: 'message';
      chatId: number;
      text: string;
      replyMarkup?: ReplyMarkup;
      userId?: number;
      /** A courtesy note: a 403 (never talked to the bot, or blocked it) is not worth an alert. */
      optional?: boolean;
      /** This is the invoice message of this order: the sent message is recorded on the order. */
      invoiceOf?: number;
    }
  /**
   * Access to one channel for a paid customer: unban if they were removed, then (unless already a
   * member) a personal link, recorded before the message that carries it.
   */
  | { kind: 'grant_access'; userId: number; chatId: number; channelTitle: string; text: string; mode: 'join_request' | 'invite_link'; linkName: string }
  /** Let a paying customer in. */
  | { kind: 'approve_join_request'; chatId: number; userId: number }
  /** Tell a non-paying requester why (while the request is pending, Telegram allows it), then decline. */
  | { kind: 'decline_join_request'; chatId: number; userId: number; text: string; replyMarkup?: ReplyMarkup }
  /** Remove someone whose access ended: ban, then unban only_if_banned so they can come back. */
  | { kind: 'remove_member'; chatId: number; userId: number }
  /** A single-use link was used: revoke it, so it cannot let a second person in after the first leaves. */
  | { kind: 'revoke_link'; chatId: number; link: string }
  /** A product's file, sent as a document; Telegram's file_id is reused after the first upload. */
  | { kind: 'send_document'; chatId: number; userId: number; path: string; caption?: string };

export type JobKind = Job['kind'];
