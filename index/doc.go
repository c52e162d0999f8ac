// Package index is the embedded store of simsearch: one bbolt file that holds
// items once and any number of named embedding spaces, each with its vectors,
// its encoder and an HNSW graph, with exact search beside it.
package index
