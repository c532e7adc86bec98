package delta

import "strings"

// NameMapping translates column paths between logical names (what users see) and physical
// names (what the Parquet files hold) under column mapping. A path is the list of field
// names from the top level down; inside arrays the element is the segment "element", inside
// maps the segments are "key" and "value", in both spellings.
type NameMapping struct {
	root *nameNode
}

type nameNode struct {
	logical, physical string
	byLogical         map[string]*nameNode // keys lower-cased
	byPhysical        map[string]*nameNode
}

// NewNameMapping builds the mapping for a schema under a column mapping mode ("", "none",
// "name" or "id"). With no column mapping both directions are the identity (apart from the
// case-insensitive lookup of logical names).
func NewNameMapping(st *StructType, mode string) *NameMapping {
	root := &nameNode{}
	if st != nil {
		addStructNames(root, st, mode, 0)
	}
	return &NameMapping{root: root}
}

const maxNameDepth = 128

func addChild(n *nameNode, logical, physical string) *nameNode {
	if n.byLogical == nil {
		n.byLogical = map[string]*nameNode{}
		n.byPhysical = map[string]*nameNode{}
	}
	c := &nameNode{logical: logical, physical: physical}
	if _, dup := n.byLogical[strings.ToLower(logical)]; !dup {
		n.byLogical[strings.ToLower(logical)] = c
	}
	if _, dup := n.byPhysical[physical]; !dup {
		n.byPhysical[physical] = c
	}
	return c
}

func addStructNames(n *nameNode, st *StructType, mode string, depth int) {
	for _, f := range st.Fields {
		if f == nil {
			continue
		}
		c := addChild(n, f.Name, f.PhysicalName(mode))
		addTypeNames(c, f.Type, mode, depth+1)
	}
}

func addTypeNames(n *nameNode, t DataType, mode string, depth int) {
	if depth > maxNameDepth {
		return
	}
	switch v := t.(type) {
	case *StructType:
		addStructNames(n, v, mode, depth)
	case *ArrayType:
		addTypeNames(addChild(n, "element", "element"), v.ElementType, mode, depth+1)
	case *MapType:
		addTypeNames(addChild(n, "key", "key"), v.KeyType, mode, depth+1)
		addTypeNames(addChild(n, "value", "value"), v.ValueType, mode, depth+1)
	}
}

// ToLogical returns the logical path of a physical path (physical names match exactly).
func (m *NameMapping) ToLogical(physical ...string) ([]string, bool) {
	out := make([]string, 0, len(physical))
	n := m.root
	for _, seg := range physical {
		c, ok := n.byPhysical[seg]
		if !ok {
			return nil, false
		}
		out = append(out, c.logical)
		n = c
	}
	return out, len(physical) > 0
}

// ToPhysical returns the physical path of a logical path (logical names match
// case-insensitively, as Delta does).
func (m *NameMapping) ToPhysical(logical ...string) ([]string, bool) {
	out := make([]string, 0, len(logical))
	n := m.root
	for _, seg := range logical {
		c, ok := n.byLogical[strings.ToLower(seg)]
		if !ok {
			return nil, false
		}
		out = append(out, c.physical)
		n = c
	}
	return out, len(logical) > 0
}
