-- +goose Up
-- A file's rights move as rights.Machine says: an application (requested)
-- or a decision (opened, refused) may follow any status, but nothing goes
-- back to 'none', which only a new file has. The Go table and this trigger
-- are walked pair by pair in migrations/machines_test.go.

-- +goose StatementBegin
CREATE FUNCTION patients_rights_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.rights_status IS DISTINCT FROM OLD.rights_status AND NEW.rights_status = 'none' THEN
        RAISE EXCEPTION 'patient % rights cannot go from % to none', OLD.id, OLD.rights_status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'patients_rights_transition';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER patients_rights_transition BEFORE UPDATE OF rights_status ON patients
    FOR EACH ROW EXECUTE FUNCTION patients_rights_transition();

-- +goose Down
DROP TRIGGER patients_rights_transition ON patients;
DROP FUNCTION patients_rights_transition();
