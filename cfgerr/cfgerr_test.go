package cfgerr_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
)

var errThing = errors.New("thing: invalid")

func TestJoinAndAll(t *testing.T) {
	assert.NoError(t, cfgerr.Join("thing", nil))
	assert.Empty(t, slices.Collect(cfgerr.All(nil)))

	a := &cfgerr.Error{Field: "names[0]", Value: "x y", Reason: "not a token", Kind: errThing}
	b := &cfgerr.Error{Field: "Secret", Value: cfgerr.Redacted, Reason: "too short", Kind: errThing, File: "p.yaml", Line: 7}
	err := cfgerr.Join("thing: invalid configuration", []*cfgerr.Error{a, b})
	require.Error(t, err)
	assert.Equal(t, "thing: invalid configuration: 2 problems\n\tnames[0]: \"x y\": not a token\n\tp.yaml:7: Secret: \"[redacted]\": too short", err.Error())
	assert.ErrorIs(t, err, errThing)
	assert.Equal(t, []*cfgerr.Error{a, b}, slices.Collect(cfgerr.All(err)))

	one := cfgerr.Join("thing", []*cfgerr.Error{a})
	assert.Equal(t, `thing: names[0]: "x y": not a token`, one.Error())

	wrapped := fmt.Errorf("loading: %w", errors.Join(err, &cfgerr.Error{Reason: "third", Line: 3}))
	got := slices.Collect(cfgerr.All(wrapped))
	require.Len(t, got, 3, "All walks wrapping and joins")
	assert.Equal(t, "line 3: third", got[2].Error())

	var stop []*cfgerr.Error
	for e := range cfgerr.All(err) {
		stop = append(stop, e)
		break
	}
	assert.Len(t, stop, 1, "All stops when the loop does")
}
