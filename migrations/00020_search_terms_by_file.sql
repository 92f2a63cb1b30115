-- +goose Up
-- A name search confirms each batch of candidates by counting, for each
-- file, the query's terms it holds (claims.Store.confirm). On the index by
-- file alone that read every term of each candidate from the table (about
-- 25 rows, spread over the heap): 60 to 80 µs a candidate, 15 to 30 ms a
-- batch of 200 on 100 000 files, and a full name walks several batches
-- (make bench --phases search, docs/benchmarks.md). With the term in the
-- index the count is an index-only scan; rebuilding a file's terms still
-- deletes them through it.
CREATE INDEX patient_search_terms_patient_term_idx ON patient_search_terms (patient_id, term);
DROP INDEX patient_search_terms_patient_idx;

-- +goose Down
CREATE INDEX patient_search_terms_patient_idx ON patient_search_terms (patient_id);
DROP INDEX patient_search_terms_patient_term_idx;
