-- Reserved for a change that was reverted before release: an empty wrapper.
BEGIN;
COMMIT;
