// New history ids (epochs) for stores: random, URL- and header-safe, made once per data set.

import { randomBytes } from "node:crypto";

/** 96 random bits as 16 base64url characters: two data sets never share one in practice. */
export function newEpoch(): string {
  return randomBytes(12).toString("base64url");
}

/** What a stored epoch must look like; anything else is a damaged store. */
export const EPOCH_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
