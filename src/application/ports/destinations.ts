import type { Channel } from '../../domain/shared/types.js';

export type ParsedDestination = {
  /** E.164 for phones, lower-cased address for emails. */
  readonly normalized: string;
  /** Country calling code for phones ("34"), null for emails. */
  readonly country_calling_code: string | null;
  /** Masked form safe to show and log. */
  readonly hint: string;
};
/** Why a destination is refused, as the caller is told it (never echoing the value). */
export type DestinationRefusal = { readonly refused: string };
/** Parses and normalises a destination for a channel, or says why it is not a valid one. */
export type DestinationParser = (channel: Channel, raw: string) => ParsedDestination | DestinationRefusal;
