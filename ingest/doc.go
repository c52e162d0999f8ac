// Package ingest puts images into a space of an index: it reads sources (an
// image folder, a generated dataset folder, a generator spec), decodes and
// resizes in parallel, embeds in batches with the space's encoder and writes
// in transactions. Ingestion is idempotent and resumable.
package ingest
