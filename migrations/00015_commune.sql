-- +goose Up
-- The commune a patient lives in, for the programme's territorial
-- diagnosis (people followed by commune). Optional: many people of the
-- PASS have no fixed address. Not an identity field (it is counted, never
-- shown beside a name), so it is stored in clear for set-based counting.
-- The form is ident.ParseCommune's; the database holds it too.
ALTER TABLE patients ADD COLUMN commune_code text
    CONSTRAINT patients_commune_code_form CHECK (commune_code ~ '^((0[1-9]|1[0-9]|2[1-9AB]|[3-8][0-9]|9[0-5])[0-9]{3}|(97[1-8]|98[4-8])[0-9]{2})$');

-- +goose Down
ALTER TABLE patients DROP COLUMN commune_code;
