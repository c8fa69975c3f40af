-- A public key can be longer than a btree entry may be (about 2.7 kB, an RSA key of 16384 bits is
-- longer): keys stay unique on a digest of the key instead of the key itself.
ALTER TABLE keys DROP CONSTRAINT keys_public_key;
CREATE UNIQUE INDEX keys_public_digest ON keys (md5(public));
