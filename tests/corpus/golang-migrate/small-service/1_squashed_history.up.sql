-- Versions 1 to 14 of this service were squashed into version 0 when the
-- project moved repositories; this file keeps the numbering so databases
-- created before the squash see no gap.
/* Nothing to run. */
