// Package render draws reports for people: Markdown (report.md), indented
// JSON (report.json), the plain-text comparison table the commands print,
// and PNG pictures (neighbour grids from stored thumbnails, distance
// plots). It measures nothing: every figure comes from a report.Report.
//
// DrawGrid is the one grid drawer of simsearch: the report's neighbour
// grids, `query --grid` and `augment` all draw with it.
package render
