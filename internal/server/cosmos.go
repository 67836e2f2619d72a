package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/cosmos"
	"github.com/setsuna-io/setsuna/internal/cosmos/bridge"
	"github.com/setsuna-io/setsuna/internal/errs"
)

// cosmosMaster is the caller of a request signed with the account master
// key: the key gives full control of the account, as on the service.
var cosmosMaster = &auth.Principal{ID: "cosmos-master-key", Kind: auth.KindAPIKey, SuperUser: true}

// cosmosHandler builds the Cosmos surface over the cache and feed services.
func (s *Server) cosmosHandler() (http.Handler, error) {
	opts := cosmos.Options{MasterKey: s.cfg.CosmosKey, NoMasterKey: s.cfg.Auth && s.cfg.CosmosKey == ""}
	opts.Identify = func(ctx context.Context, resourceToken string) (context.Context, error) {
		switch {
		case resourceToken == "":
			return auth.NewContext(ctx, cosmosMaster), nil
		case s.auth == nil:
			return auth.NewContext(ctx, auth.DevPrincipal), nil
		}
		p, err := s.auth.Verify(resourceToken)
		if err != nil {
			msg := "The input authorization token can't serve the request."
			if e := errs.As(err); e != nil {
				msg = e.Msg
			}
			return nil, &cosmos.Error{Status: http.StatusUnauthorized, Code: "Unauthorized", Message: msg}
		}
		return auth.NewContext(ctx, p), nil
	}
	h, err := cosmos.New(bridge.New(s.cache, s.feed, errs.NewReporter(s.log)), opts)
	if err != nil {
		return nil, errors.New("invalid --cosmos-key: " + err.Error())
	}
	return h, nil
}
