-- +goose Up
-- The platform's administrator (issue 18 §1): a role that runs the
-- deployment rather than a city, and creates conventions from its page
-- (/plateforme) instead of the owner's `passd convention create`.
ALTER TABLE users DROP CONSTRAINT users_role_check,
    ADD CONSTRAINT users_role_check CHECK (role IN ('provider', 'coordinator', 'cpam_referent', 'finance', 'admin', 'observer',
        'social_worker', 'doctor', 'platform_admin'));

-- passd_tenant_create becomes callable by the application: SECURITY
-- DEFINER, run as its owner (the schema's), who alone may insert into
-- tenants. It moves the transaction's passd.tenant to the oldest
-- convention and then to the new one; called from an application
-- transaction, it must give the caller its own convention back, or the
-- caller's next statements (its audit row) would be written into the new
-- convention. So it saves the setting first and restores it before
-- returning (set_config(…, true) lasts until the transaction ends; an
-- error aborts the transaction, and the setting with it).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION passd_tenant_create(tenant_name text) RETURNS bigint LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    caller text := coalesce(current_setting('passd.tenant', true), '');
    origin bigint := (SELECT min(id) FROM tenants);
    created bigint;
BEGIN
    INSERT INTO tenants (name) VALUES (tenant_name) RETURNING id INTO created;
    PERFORM set_config('passd.tenant', origin::text, true);
    CREATE TEMP TABLE seed_rates ON COMMIT DROP AS SELECT * FROM rates WHERE tenant_id = origin;
    CREATE TEMP TABLE seed_acts ON COMMIT DROP AS SELECT * FROM acts WHERE tenant_id = origin;
    CREATE TEMP TABLE seed_drugs ON COMMIT DROP AS SELECT * FROM drugs WHERE tenant_id = origin;
    UPDATE seed_rates SET tenant_id = created, created_by = NULL;
    UPDATE seed_acts SET tenant_id = created, updated_by = NULL;
    UPDATE seed_drugs SET tenant_id = created, updated_by = NULL;
    PERFORM set_config('passd.tenant', created::text, true);
    INSERT INTO settings DEFAULT VALUES;
    INSERT INTO tariff_state DEFAULT VALUES;
    INSERT INTO audit_chain_head (chain_seq, hash) VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000');
    INSERT INTO rates SELECT * FROM seed_rates;
    INSERT INTO acts SELECT * FROM seed_acts;
    INSERT INTO drugs SELECT * FROM seed_drugs;
    DROP TABLE seed_rates, seed_acts, seed_drugs;
    PERFORM set_config('passd.tenant', caller, true);
    RETURN created;
END;
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION passd_tenant_create(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION passd_tenant_create(text) TO passd_app;

-- +goose Down
REVOKE EXECUTE ON FUNCTION passd_tenant_create(text) FROM passd_app;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION passd_tenant_create(tenant_name text) RETURNS bigint LANGUAGE plpgsql
SECURITY INVOKER SET search_path = pg_catalog, public AS $$
DECLARE
    origin bigint := (SELECT min(id) FROM tenants);
    created bigint;
BEGIN
    INSERT INTO tenants (name) VALUES (tenant_name) RETURNING id INTO created;
    PERFORM set_config('passd.tenant', origin::text, true);
    CREATE TEMP TABLE seed_rates ON COMMIT DROP AS SELECT * FROM rates WHERE tenant_id = origin;
    CREATE TEMP TABLE seed_acts ON COMMIT DROP AS SELECT * FROM acts WHERE tenant_id = origin;
    CREATE TEMP TABLE seed_drugs ON COMMIT DROP AS SELECT * FROM drugs WHERE tenant_id = origin;
    UPDATE seed_rates SET tenant_id = created, created_by = NULL;
    UPDATE seed_acts SET tenant_id = created, updated_by = NULL;
    UPDATE seed_drugs SET tenant_id = created, updated_by = NULL;
    PERFORM set_config('passd.tenant', created::text, true);
    INSERT INTO settings DEFAULT VALUES;
    INSERT INTO tariff_state DEFAULT VALUES;
    INSERT INTO audit_chain_head (chain_seq, hash) VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000');
    INSERT INTO rates SELECT * FROM seed_rates;
    INSERT INTO acts SELECT * FROM seed_acts;
    INSERT INTO drugs SELECT * FROM seed_drugs;
    DROP TABLE seed_rates, seed_acts, seed_drugs;
    RETURN created;
END;
$$;
-- +goose StatementEnd
-- A platform administrator left makes the check fail (its validation sees
-- every row, whatever the policies): disable and remove them first.
ALTER TABLE users DROP CONSTRAINT users_role_check,
    ADD CONSTRAINT users_role_check CHECK (role IN ('provider', 'coordinator', 'cpam_referent', 'finance', 'admin', 'observer',
        'social_worker', 'doctor'));
