package export

// SetLakeHook makes a Delta-format sync call f at each step of a run ("data": data files
// written; "commit": commit written; "checkpoint": checkpoint written), for kill tests.
func SetLakeHook(o *LakeOptions, f func(step string)) { o.hook = f }
