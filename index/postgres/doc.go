// Package postgres keeps simsearch's items and spaces in a PostgreSQL
// database with the pgvector extension, behind the same index.Store
// contract as the embedded bbolt file. Importing it registers the driver
// "postgres" with index.Connect, which then opens targets such as
//
//	postgres://user@db.lab.example/simsearch
//	postgresql:///simsearch?host=/var/run/postgresql
//	host=db.lab.example dbname=simsearch
//
// Anything the URL or connection string leaves out comes from the PG*
// environment variables (PGHOST, PGUSER, PGPASSWORD, …) and ~/.pgpass, as
// with psql. Passwords are never part of Path or of an error message.
// Server settings may ride in the target as parameters
// (?maintenance_work_mem=2GB makes the HNSW build of a big space fast).
//
// # Basics
//
// The first writable connection creates the vector extension (when the
// role may) and a schema "simsearch" holding:
//
//	meta        one row: magic, schema version, item count (the next id),
//	            probe count, items per split
//	items       id, content hash (unique), source, split, set id, group,
//	            factors and labels (jsonb)
//	thumbnails  id, PNG
//	spaces      name (unique), dimension, metric, HNSW parameters, the
//	            encoder (id, description, resolution, checkpoint), the
//	            number of vectors
//	vectors_N   per space: item id (primary key), insertion order, the
//	            item's split, set, group and labels (copied, so that
//	            filters test one table), the vector(dim)
//
// Each space's vectors get a pgvector HNSW index (vector_l2_ops, with the
// space's M and ef_construction), built by SaveGraph or Load after a bulk
// load and maintained by PostgreSQL as vectors are added afterwards.
// Vectors of a Cosine space are stored normalized, so the Euclidean
// order is the cosine order and the index's distance is the one reported
// (‖u − v‖ = sqrt(2(1 − u·v))). Queries set hnsw.ef_search from
// SearchOptions.Ef and use pgvector's iterative index scans, so a filtered
// search still returns k items; one that comes back short is answered
// exactly. Exact search is the same query with index scans disabled: a
// sequential scan ordered by the same distance.
//
// # Concurrency
//
// A Store is safe for concurrent use; it holds a pool of connections. Any
// number of processes may write one database at once: AddItems takes the
// meta row's lock, so ids stay dense and a content hash is stored once;
// AddVectors inserts with ON CONFLICT DO NOTHING, so an item gets one
// vector whoever sends it first. Every write is one transaction: a lost
// connection leaves nothing of its batch, and sending the batch again
// completes it.
//
// # Caveats
//
// The schema version (SchemaVersion) is checked on connect; pgvector must
// be 0.8 or newer. pgvector indexes at most 2,000 dimensions: larger
// spaces are searched exactly. It allows m from 2 to 100 and
// ef_construction of at least 2·m; hnsw.ef_search is capped at 1,000.
// Building the index holds a lock that makes other writers of that space
// wait; searches go on.
package postgres
