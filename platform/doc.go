// Package platform is what the platform's administrator does over the
// whole deployment rather than in one convention (issue 18 §1): list the
// conventions (cities or CCAS) it hosts and create a new one.
//
// Invariants:
//   - the list of conventions (tenants) is not under row-level security
//     and names them only: reading it reveals nothing of a convention's
//     data;
//   - a convention is created by passd_tenant_create (migrations 00021,
//     00021), which gives it its settings, an empty audit chain and a copy
//     of the oldest convention's tariff, and leaves the caller's
//     transaction in the caller's own convention, where the audit row of
//     the creation is written, in the same transaction;
//   - a name is unique across the deployment (1 to 200 characters).
package platform
