package momento

import (
	"context"
	"time"

	"github.com/setsuna-io/setsuna/internal/auth"
	"github.com/setsuna-io/setsuna/internal/errs"
	"github.com/setsuna-io/setsuna/internal/grpcx"
	pb "github.com/setsuna-io/setsuna/proto/momentopb"
)

// authServer implements auth.Auth and token.Token. The Node SDK sends the
// caller's key in the body (auth_token / api_key) and no header; the Go SDK
// sends both. The body wins when present.
type authServer struct {
	pb.UnimplementedAuthServer
	s *Service
}

type tokenServer struct {
	pb.UnimplementedTokenServer
	s *Service
}

var (
	_ pb.AuthServer  = (*authServer)(nil)
	_ pb.TokenServer = (*tokenServer)(nil)
)

func (s *Service) caller(ctx context.Context, bodyToken string) (*auth.Principal, error) {
	if s.auth == nil {
		return nil, s.status(ctx, "create a token", errs.ErrAuthDisabled)
	}
	if bodyToken == "" {
		bodyToken = grpcx.Header(ctx, "authorization")
	}
	p, err := s.auth.Verify(bodyToken)
	if err != nil {
		return nil, s.status(ctx, "authenticate", err)
	}
	return p, nil
}

func (a *authServer) GenerateApiToken(ctx context.Context, req *pb.GenerateApiTokenRequest) (*pb.GenerateApiTokenResponse, error) {
	p, err := a.s.caller(ctx, req.AuthToken)
	if err != nil {
		return nil, err
	}
	mr, err := mintRequest(req.Permissions, req.TokenId)
	if err != nil {
		return nil, err
	}
	mr.Description = req.Description
	switch e := req.Expiry.(type) {
	case *pb.GenerateApiTokenRequest_Never:
	case *pb.GenerateApiTokenRequest_Expires:
		if e.Expires.GetValidForSeconds() == 0 {
			return nil, invalidArg("expiry must be at least one second")
		}
		mr.ValidFor = time.Duration(e.Expires.GetValidForSeconds()) * time.Second
	default:
		return nil, invalidArg("missing expiry: set never or expires")
	}
	m, err := a.s.auth.GenerateAPIKey(p, mr)
	if err != nil {
		return nil, a.s.status(ctx, "create an api key", err)
	}
	a.s.log.Info("api key created", "by", p.ID, "id", m.ID, "token_id", mr.TokenID, "valid_until", m.ValidUntil)
	return &pb.GenerateApiTokenResponse{ApiKey: m.JWT, RefreshToken: m.RefreshToken, Endpoint: m.Endpoint, ValidUntil: uint64(m.ValidUntil)}, nil
}

func (a *authServer) RefreshApiToken(ctx context.Context, req *pb.RefreshApiTokenRequest) (*pb.RefreshApiTokenResponse, error) {
	if a.s.auth == nil {
		return nil, a.s.status(ctx, "refresh an api key", errs.ErrAuthDisabled)
	}
	key := req.ApiKey
	if key == "" {
		key = grpcx.Header(ctx, "authorization")
	}
	m, err := a.s.auth.RefreshAPIKey(key, req.RefreshToken)
	if err != nil {
		return nil, a.s.status(ctx, "refresh an api key", err)
	}
	a.s.log.Info("api key refreshed", "id", m.ID)
	return &pb.RefreshApiTokenResponse{ApiKey: m.JWT, RefreshToken: m.RefreshToken, Endpoint: m.Endpoint, ValidUntil: uint64(m.ValidUntil)}, nil
}

func (t *tokenServer) GenerateDisposableToken(ctx context.Context, req *pb.GenerateDisposableTokenRequest) (*pb.GenerateDisposableTokenResponse, error) {
	p, err := t.s.caller(ctx, req.AuthToken)
	if err != nil {
		return nil, err
	}
	mr, err := mintRequest(req.Permissions, req.TokenId)
	if err != nil {
		return nil, err
	}
	mr.ValidFor = time.Duration(req.GetExpires().GetValidForSeconds()) * time.Second
	m, err := t.s.auth.GenerateDisposable(p, mr)
	if err != nil {
		return nil, t.s.status(ctx, "create a disposable token", err)
	}
	return &pb.GenerateDisposableTokenResponse{ApiKey: m.JWT, Endpoint: m.Endpoint, ValidUntil: uint64(m.ValidUntil)}, nil
}

// mintRequest converts the wire permission scope.
func mintRequest(perms *pb.Permissions, tokenID string) (auth.MintRequest, error) {
	mr := auth.MintRequest{TokenID: tokenID}
	switch k := perms.GetKind().(type) {
	case *pb.Permissions_SuperUser:
		mr.SuperUser = true
	case *pb.Permissions_Explicit:
		for i, pt := range k.Explicit.GetPermissions() {
			pm, err := permissionFrom(pt)
			if err != nil {
				return mr, invalidArg("permission %d: %v", i, err)
			}
			mr.Perms = append(mr.Perms, pm)
		}
		if len(mr.Perms) == 0 {
			return mr, invalidArg("cannot create token with empty permission list")
		}
	default:
		return mr, invalidArg("missing permissions")
	}
	return mr, nil
}

type permError string

func (e permError) Error() string { return string(e) }

var (
	cacheRoles = map[pb.CacheRole]string{
		pb.CacheRole_CacheReadWrite: auth.RoleReadWrite,
		pb.CacheRole_CacheReadOnly:  auth.RoleReadOnly,
		pb.CacheRole_CacheWriteOnly: auth.RoleWriteOnly,
	}
	topicRoles = map[pb.TopicRole]string{
		pb.TopicRole_TopicReadWrite: auth.RoleReadWrite,
		pb.TopicRole_TopicReadOnly:  auth.RoleReadOnly,
		pb.TopicRole_TopicWriteOnly: auth.RoleWriteOnly,
	}
)

func permissionFrom(pt *pb.PermissionsType) (auth.Permission, error) {
	switch k := pt.GetKind().(type) {
	case *pb.PermissionsType_CachePermissions:
		cp := k.CachePermissions
		role, ok := cacheRoles[cp.Role]
		if !ok {
			return auth.Permission{}, permError("unknown cache role")
		}
		pm := auth.Permission{Resource: auth.ResourceCache, Role: role}
		if err := cacheSelector(&pm.Cache, cp.GetAllCaches() != nil, cp.GetCacheSelector()); err != nil {
			return pm, err
		}
		// API-key scopes carry no item selector: they cover every item.
		switch {
		case cp.GetAllItems() != nil, cp.GetCacheItem() == nil:
		case cp.GetItemSelector() != nil:
			switch sel := cp.GetItemSelector().GetKind().(type) {
			case *pb.CacheItemSelector_Key:
				if len(sel.Key) == 0 {
					return pm, permError("empty item key")
				}
				pm.Key = sel.Key
			case *pb.CacheItemSelector_KeyPrefix:
				if len(sel.KeyPrefix) == 0 {
					return pm, permError("empty item key prefix")
				}
				pm.KeyPrefix = sel.KeyPrefix
			default:
				return pm, permError("empty item selector")
			}
		}
		return pm, nil
	case *pb.PermissionsType_TopicPermissions:
		tp := k.TopicPermissions
		role, ok := topicRoles[tp.Role]
		if !ok {
			return auth.Permission{}, permError("unknown topic role")
		}
		pm := auth.Permission{Resource: auth.ResourceTopic, Role: role}
		if err := cacheSelector(&pm.Cache, tp.GetAllCaches() != nil, tp.GetCacheSelector()); err != nil {
			return pm, err
		}
		switch {
		case tp.GetAllTopics() != nil:
		case tp.GetTopicSelector().GetTopicName() != "":
			pm.Topic = tp.GetTopicSelector().GetTopicName()
		case tp.GetTopicSelector().GetTopicNamePrefix() != "":
			pm.TopicPrefix = tp.GetTopicSelector().GetTopicNamePrefix()
		default:
			return pm, permError("missing topic selector")
		}
		return pm, nil
	case *pb.PermissionsType_FunctionPermissions:
		fp := k.FunctionPermissions
		if fp.Role != pb.FunctionRole_FunctionInvoke {
			return auth.Permission{}, permError("unknown function role")
		}
		pm := auth.Permission{Resource: auth.ResourceFunction, Role: auth.RoleInvoke}
		if err := cacheSelector(&pm.Cache, fp.GetAllCaches() != nil, fp.GetCacheSelector()); err != nil {
			return pm, err
		}
		pm.Function = fp.GetFunctionSelector().GetFunctionName()
		pm.FuncPrefix = fp.GetFunctionSelector().GetFunctionNamePrefix()
		return pm, nil
	}
	return auth.Permission{}, permError("empty permission")
}

func cacheSelector(dst *string, all bool, sel *pb.CacheSelector) error {
	switch {
	case all:
		return nil
	case sel.GetCacheName() != "":
		*dst = sel.GetCacheName()
		return nil
	}
	return permError("missing cache selector")
}
