package cluster

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the status as afstudio cluster status prints it: the
// hosts alive and their partitions, each partition's owner, position and
// lag, then a WARNING line for each mismatch and each failed reload.
func (s Status) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "stream %s, lease TTL %v, %d hosts alive\n", s.Stream, s.LeaseTTL, len(s.Hosts))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tPARTITIONS\tLAST SEEN")
	for _, h := range s.Hosts {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", h.ID, strings.Trim(fmt.Sprint(h.Owned), "[]"), h.Seen.Local().Format(time.TimeOnly))
	}
	fmt.Fprintln(tw, "\nPARTITION\tOWNER\tSEQ\tLAG\tSTATE BYTES")
	for _, p := range s.Partitions {
		owner := p.Owner
		if owner == "" {
			owner = "-"
		}
		size := strconv.Itoa(p.StateBytes)
		if p.Chunks > 0 {
			size += fmt.Sprintf(" (%d chunks)", p.Chunks)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%s\n", p.Partition, owner, p.Seq, p.Lag, size)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	warnings := slices.Clone(s.Mismatches)
	for _, p := range s.Partitions {
		if p.StateError != "" {
			warnings = append(warnings, fmt.Sprintf("partition %d: %s", p.Partition, p.StateError))
		}
	}
	for _, h := range s.Hosts {
		for _, f := range h.Failed {
			warnings = append(warnings, "on "+h.ID+": "+f)
		}
	}
	for _, m := range warnings {
		fmt.Fprintf(w, "\nWARNING: %s\n", m)
	}
	return nil
}
