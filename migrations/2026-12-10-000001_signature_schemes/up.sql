-- The HTTP signature scheme each server accepted from us last (`cavage`: draft-cavage, what
-- Mastodon reads; `rfc9421`: HTTP Message Signatures). NULL: never learnt, draft-cavage first.
ALTER TABLE instances
    ADD COLUMN signature_scheme TEXT
        CHECK (signature_scheme IN ('cavage', 'rfc9421'));
