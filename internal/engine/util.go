package engine

import "sort"

func sortRecords(recs []*TaskRecord) {
	sort.Slice(recs, func(i, j int) bool { return recs[i].Seq < recs[j].Seq })
}

// OutputNames lists the OUT and IN_OUT variables in declaration order.
func (p *Plan) OutputNames() []string { return p.outputs }

// ResponseNames lists the variables :execute returns: the OUT and IN_OUT
// variables, then the system variables not declared among them. Computed
// at compile time; the slice must not be modified.
func (p *Plan) ResponseNames() []string { return p.response }
